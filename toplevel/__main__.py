from stepbox.core.cli.entry import main

main()
