// Runs a Python script inside Pyodide (CPython compiled to WebAssembly) under Node,
// with stepbox's source and the given pure-Python wheels installed in Pyodide's
// in-memory file system -- nothing of the host is visible to the script.
//
//   node run.mjs PYODIDE_DIR WHEELS_DIR REPO_DIR SCRIPT
//
// PYODIDE_DIR: the npm package `pyodide` (node_modules/pyodide); WHEELS_DIR: the
// wheels scripts/install.sh fetched (micropip itself, hypothesis and its
// dependencies, stepbox's pure-Python dependencies); REPO_DIR: the checkout, whose
// toplevel/, core/ and backends/ become the package `stepbox` as pyproject.toml maps
// them.  Nothing is fetched from the network.  Exit status: 0 when the script ran to
// its end, 1 when it raised (the traceback on stderr).
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [pyodideDir, wheelsDir, repoDir, script] = process.argv.slice(2);
const started = Date.now();
const { loadPyodide } = await import(pathToFileURL(path.join(pyodideDir, "pyodide.mjs")).href);
const pyodide = await loadPyodide({ indexURL: pyodideDir + "/", stdout: (s) => console.log(s), stderr: (s) => console.error(s) });
console.log(`pyodide ${pyodide.version} loaded in ${((Date.now() - started) / 1000).toFixed(1)}s`);

// stepbox's source, as pyproject.toml's package-dir maps it, plus pyproject.toml
// itself (the script's prelude writes the dist-info with its entry points from it).
const site = pyodide.runPython("import sysconfig; sysconfig.get_path('purelib')");
const packageDirs = { toplevel: "stepbox", core: "stepbox/core", backends: "stepbox/backends" };
function copyTree(from, to) {
  pyodide.FS.mkdirTree(to);
  for (const entry of fs.readdirSync(from, { withFileTypes: true })) {
    if (entry.name === "__pycache__") continue;
    const source = path.join(from, entry.name);
    if (entry.isDirectory()) copyTree(source, `${to}/${entry.name}`);
    else if (entry.name.endsWith(".py")) pyodide.FS.writeFile(`${to}/${entry.name}`, fs.readFileSync(source));
  }
}
for (const [dir, pkg] of Object.entries(packageDirs)) copyTree(path.join(repoDir, dir), `${site}/${pkg}`);
pyodide.FS.writeFile("/tmp/pyproject.toml", fs.readFileSync(path.join(repoDir, "pyproject.toml")));

// The wheels, into Pyodide's file system; micropip (not part of the npm package)
// from its wheel, then everything else through micropip from emfs: URLs.
pyodide.FS.mkdirTree("/wheels");
const wheels = fs.readdirSync(wheelsDir).filter((name) => name.endsWith(".whl"));
for (const name of wheels) pyodide.FS.writeFile(`/wheels/${name}`, fs.readFileSync(path.join(wheelsDir, name)));
const micropip = wheels.find((name) => name.startsWith("micropip-"));
if (!micropip) throw new Error(`no micropip wheel in ${wheelsDir}: run scripts/install.sh`);
await pyodide.loadPackage(path.join(wheelsDir, micropip), { messageCallback: () => {} });

try {
  await pyodide.runPythonAsync(`
import micropip, os, tomllib
await micropip.install(
    ["emfs:/wheels/" + name for name in sorted(os.listdir("/wheels")) if not name.startswith("micropip-")],
    deps=False,
)
# stepbox's dist-info: its backends are found through entry points (core/kernel/backend_lookup.py)
with open("/tmp/pyproject.toml", "rb") as f:
    project = tomllib.load(f)["project"]
info = os.path.join(${JSON.stringify(site)}, f"stepbox-{project['version']}.dist-info")
os.makedirs(info, exist_ok=True)
with open(os.path.join(info, "METADATA"), "w") as f:
    f.write(f"Metadata-Version: 2.1\\nName: stepbox\\nVersion: {project['version']}\\n")
with open(os.path.join(info, "entry_points.txt"), "w") as f:
    for group, points in project["entry-points"].items():
        f.write(f"[{group}]\\n" + "".join(f"{name} = {value}\\n" for name, value in points.items()))
`);
  console.log(`installed ${wheels.length} wheels and stepbox in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  pyodide.FS.writeFile("/tmp/scenario.py", fs.readFileSync(script));
  await pyodide.runPythonAsync(`
import runpy
runpy.run_path("/tmp/scenario.py", run_name="__main__")
`);
} catch (error) {
  console.error(String(error.message ?? error));
  process.exit(1);
}
console.log(`pyodide run ended after ${((Date.now() - started) / 1000).toFixed(1)}s`);
process.exit(0);
