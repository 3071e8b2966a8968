"""The engine and the studio hold no call that can run code from data.

Each pattern below either unpickles, evaluates text as Python, or hands text to a
shell. Any use that remains must be listed in ALLOWED with the reason it is safe;
today there are none. Method calls named ``eval``/``exec`` (torch's ``model.eval()``,
Qt's ``app.exec()``) are not the builtins and are not matched.
"""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATTERNS = {
    "allow_pickle=True": re.compile(r"allow_pickle\s*=\s*True"),
    "weights_only=False": re.compile(r"weights_only\s*=\s*False"),
    "pickle.load": re.compile(r"\b(c?pickle|dill|joblib)\.loads?\("),
    "eval(": re.compile(r"(?<![\w.])eval\("),
    "exec(": re.compile(r"(?<![\w.])exec\("),
    "shell=True": re.compile(r"shell\s*=\s*True"),
}
#: (file relative to the repository, pattern name) -> why this use is safe. Empty.
ALLOWED: dict[tuple[str, str], str] = {}


def _sources():
    for package in ("engine", "studio"):
        yield from sorted((ROOT / package).rglob("*.py"))


def test_no_call_runs_code_from_data():
    found = []
    for path in _sources():
        relative = path.relative_to(ROOT).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            for name, pattern in PATTERNS.items():
                if pattern.search(code) and (relative, name) not in ALLOWED:
                    found.append(f"{relative}:{number}: {name}: {line.strip()}")
    assert not found, "calls that can run code from a file:\n" + "\n".join(found)


def test_every_torch_load_refuses_pickles():
    calls = []
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"torch\.load\(([^)]*)\)", text):
            calls.append((path.relative_to(ROOT).as_posix(), match.group(1)))
    assert calls, "expected the checkpoint reader's torch.load"
    assert all("weights_only=True" in arguments for _, arguments in calls), calls


def test_the_patterns_catch_what_they_are_for():
    samples = {"allow_pickle=True": "np.load(f, allow_pickle = True)",
               "weights_only=False": "torch.load(p, weights_only=False)",
               "pickle.load": "data = pickle.loads(raw)", "eval(": "x = eval(text)",
               "exec(": "exec(code)", "shell=True": "subprocess.run(c, shell=True)"}
    for name, sample in samples.items():
        assert PATTERNS[name].search(sample), name
    assert not PATTERNS["eval("].search("model.eval()")
    assert not PATTERNS["exec("].search("return app.exec()")
