"""Every CLI command and every option must be documented in docs/cli*.md (datasette-style)."""

import re

import typer.main

from conftest import REPO

DOC = REPO / "docs" / "cli.md"


def _commands():
    from overheard.cli import app
    root = typer.main.get_command(app)

    def walk(group, prefix):
        for name, cmd in group.commands.items():
            if hasattr(cmd, "commands"):   # a sub-app (group of commands)
                yield from walk(cmd, prefix + [name])
            else:
                yield " ".join(prefix + [name]), cmd
    return root, list(walk(root, []))


def _sections():
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(DOC.parent.glob("cli*.md")))
    parts = re.split(r"^## `overheard ([^`]+)`\s*$", text, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}, text


def test_every_command_has_a_section_with_every_option():
    root, commands = _commands()
    sections, _ = _sections()
    missing = []
    for name, cmd in commands:
        if name not in sections:
            missing.append(f"command `overheard {name}` has no section")
            continue
        for param in cmd.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--") and opt not in sections[name]:
                    missing.append(f"`overheard {name}` option {opt} undocumented")
    assert not missing, "\n".join(missing)


def test_global_options_and_readme_commands_are_documented():
    root, commands = _commands()
    _, text = _sections()
    for param in root.params:
        for opt in param.opts:
            if opt.startswith("--"):
                assert opt in text, f"global option {opt} undocumented"
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme and "docs/cli.md" in readme
