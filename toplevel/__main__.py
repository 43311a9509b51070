from stepbox.core.cli.main import main

main()
