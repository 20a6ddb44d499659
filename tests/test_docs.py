"""The README stays honest: its commands run, and every command is documented."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from matcher.cli import cli

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLES = re.findall(r"^\$ cartmatch (.+)$", README, flags=re.MULTILINE)


def test_readme_has_examples():
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("line", EXAMPLES)
def test_readme_example_runs(runner, line):
    result = runner.invoke(cli, shlex.split(line))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip()


def test_quick_start_is_two_commands_that_exist():
    block = README.split("## Quick start", 1)[1].split("```console", 1)[1].split("```", 1)[0]
    commands = [line for line in block.strip().splitlines() if line.strip()]
    assert commands[1] == "./scripts/test"
    assert commands[0].startswith("./scripts/cartmatch match")
    for command in commands:
        assert os.access(ROOT / command.split()[0], os.X_OK)


@pytest.mark.slow
def test_quick_start_match_runs(db_path):
    block = README.split("## Quick start", 1)[1].split("```console", 1)[1].split("```", 1)[0]
    first = shlex.split(block.strip().splitlines()[0])
    env = {**os.environ, "CARTMATCH_DB": str(db_path)}
    done = subprocess.run(first, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "axi-cel / lbcl-3l  [ELIGIBLE]" in done.stdout


def _commands(group, prefix=()):
    for name, command in group.commands.items():
        yield (*prefix, name)
        if hasattr(command, "commands"):
            yield from _commands(command, (*prefix, name))


@pytest.mark.parametrize("command", list(_commands(cli)), ids=" ".join)
def test_every_command_is_in_the_readme(command):
    assert f"cartmatch {' '.join(command)}" in README
