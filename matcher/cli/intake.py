"""Read a referral profile from a JSON file, stdin or command-line assignments.

An adapter at the edge: it turns bytes and flags into the raw mapping that
`matcher.core.patient.load_patient` validates. Errors name the file, line and column.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable
from typing import Any

from matcher.errors import InputFileError, ProfileError
from matcher.limits import JSON_DEPTH, PROFILE_BYTES, json_nesting


def parse_profile_json(text: str, source: str) -> dict[str, Any]:
    """A JSON object from text; empty input and syntax errors get one clear sentence."""
    if not text.strip():
        raise InputFileError(
            f"{source} is empty: give a JSON object with at least a diagnosis, "
            'e.g. {"diagnosis": "DLBCL"}',
            path=source,
        )
    if PROFILE_BYTES.exceeded(len(text)):
        raise InputFileError(f"{source}: {PROFILE_BYTES.message(len(text))}", path=source)
    depth = json_nesting(text)
    if JSON_DEPTH.exceeded(depth):
        raise InputFileError(f"{source}: nested {JSON_DEPTH.message(depth)}", path=source)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputFileError(
            f"{source} line {error.lineno}, column {error.colno}: invalid JSON ({error.msg}); "
            "fix the file and run again",
            path=source,
        ) from None
    except ValueError as error:  # an integer of more digits than Python converts
        raise InputFileError(
            f"{source}: a number in the file is too long to read ({str(error).split(':')[0]}); "
            "fix the file and run again",
            path=source,
        ) from None
    if not isinstance(data, dict):
        raise InputFileError(
            f"{source}: expected a JSON object of profile fields, got a {type(data).__name__}",
            path=source,
        )
    return data


def read_bytes(path: str) -> bytes:
    """A small input file's bytes, up to the profile limit; a missing, folder, device, pipe or
    unreadable path is one sentence."""
    limit = PROFILE_BYTES.value
    try:
        # Checked before opening: opening a FIFO waits for a writer, /dev/zero never ends.
        if os.path.exists(path) and not stat.S_ISREG(os.stat(path).st_mode):
            if os.path.isdir(path):
                raise IsADirectoryError(path)
            raise InputFileError(
                f"{path} is not a regular file (a device or a pipe); give a file, or - to "
                "read standard input",
                path=path,
            )
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file; check the path", path=path) from None
    except IsADirectoryError:
        raise InputFileError(f"{path} is a folder: give a file", path=path) from None
    except OSError as error:
        raise InputFileError(f"{path}: cannot be read ({error.strerror})", path=path) from None
    if len(data) > limit:
        raise InputFileError(
            f"{path}: more than {limit:,} bytes, the limit for {PROFILE_BYTES.what}; shorten it, "
            f"or raise {PROFILE_BYTES.env}",
            path=path,
        )
    return data


def read_profile(path: str, stdin_text: str | None = None) -> dict[str, Any]:
    """The profile in a file, or on stdin when path is '-'."""
    if path == "-":
        return parse_profile_json(stdin_text or "", "standard input")
    try:
        text = read_bytes(path).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputFileError(f"{path}: not UTF-8 text; save it as UTF-8 JSON", path=path) from None
    return parse_profile_json(text, path)


def read_lines(path: str, stdin_text: str | None = None) -> list[str]:
    """The lines of a text file (UTF-8, with or without BOM, or GB18030), or of stdin for '-'."""
    if path == "-":
        return (stdin_text or "").splitlines()
    data = read_bytes(path)
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding).splitlines()
        except UnicodeDecodeError:
            continue
    raise InputFileError(f"{path}: not UTF-8 or GB18030 text; save it as UTF-8", path=path)


def assignments(pairs: Iterable[str], option: str) -> dict[str, str]:
    """['CD19=positive', 'CLDN18.2=60%:2+'] -> {'CD19': 'positive', 'CLDN18.2': '60%:2+'}."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ProfileError(
                f"{option} '{pair}': write NAME=VALUE, e.g. {option} CD19=positive", field=option
            )
        out[name.strip()] = value.strip()
    return out


def merge(profile: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Command-line values override the file's; maps (antigens, labs) merge key by key."""
    merged = dict(profile)
    for key, value in overrides.items():
        if value is None or value == {} or value == []:
            continue
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged
