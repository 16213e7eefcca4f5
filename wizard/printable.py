"""What every string from the account or from AWS goes through before anyone sees it.

Names, tags, budget names and error messages are chosen by whoever can write to the account, and a
terminal obeys escape sequences in them (clear the screen, rewrite the title, fake a "✓ verified" line,
reverse the text with a bidi override). Everything shown, in text, Markdown, HTML and on stderr alike,
has its control and format characters escaped, Python-style (`\\x1b`, `\\u202e`), so they are visible and
inert. JSON output needs nothing more: json.dumps escapes them itself.
"""

from __future__ import annotations


def printable(value: object) -> str:
    """`value` as text with every non-printable character (C0 and C1 controls, DEL, newlines, bidi and
    other format characters, separators other than the space) escaped as its Python escape."""
    text = str(value)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
