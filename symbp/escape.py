"""User text made safe for each output context: one escaper per context, in one place.

Every string that comes from a spec (name, title, source, description, a
custom formula's source text, a claim's note), a data set or a file name is
*plain text*. Before it reaches an output it goes through the escaper of that
output's context, and through nothing else:

=================  ==========================  =====================================
context            escaper                     what it guarantees
=================  ==========================  =====================================
LaTeX text         :func:`tex_escape`          typeset literally (``\\input`` prints)
LaTeX comment      :func:`tex_comment`         stays inside its ``%`` comment line
Markdown           :func:`md_escape`,          shown literally, on one line; no raw
                   :func:`md_code`             HTML (``<script>`` is ``&lt;script&gt;``)
HTML               :func:`html_escape`         text or attribute value, never markup
GIFT (Moodle)      :func:`gift_escape`         one line; ``~ = # { } : \\`` escaped
Moodle XML         :func:`xml_text`            a text node ElementTree can serialise
CSV                :func:`csv_cell`            one line; no formula ("CSV injection")
terminal           :func:`terminal_text`,      no escape sequence, no fake line;
                   :func:`rich_markup`         rich markup shown literally
JSON               :func:`json_text`           no raw C1 or bidi control
plot (matplotlib)  :func:`plot_text`           one line; ``$`` is not mathtext
=================  ==========================  =====================================

Control characters (the convention every escaper shares, :func:`visible_controls`):
C0 and C1 controls, DEL, and the invisible characters that reorder or break a
line on screen (bidi embeddings and overrides U+202A-202E, isolates
U+2066-2069, the marks U+200E, U+200F, U+061C, and the separators U+2028,
U+2029) never reach an output raw. A line break (``\\n \\r \\v \\f``, U+0085,
U+2028, U+2029) and a tab become one space, unless the context keeps newlines
and tabs (HTML, XML, a terminal report of several lines); every other one is
written visibly as Python writes it in a string, ``\\x1b`` or ``\\u202e``, and
that text is then escaped for the context like any other. So an ESC sequence
that would clear a screen, a newline that would end a ``%`` comment or start a
GIFT question, or a right-to-left override that would disguise a name comes
out as readable text instead.

CSV cells: a text cell starting with ``=``, ``+``, ``-``, ``@`` (or a tab or
carriage return) is prefixed with ``'``, the OWASP advice against CSV
injection, so a spreadsheet shows it as text rather than evaluating it. A cell
that is a number (``-0.25``, ``1e-3``, an ``int``, ``float`` or ``Fraction``)
is written as it is: its ``-`` is a sign, and the file stays machine-readable.

This module imports nothing from symbp, so any stage (``render``, ``verify``,
``exercises``, ``train``, the CLI) can use it without depending on another.
"""

from __future__ import annotations

import re
from numbers import Number

from markupsafe import escape as _markupsafe_escape

#: Characters that break a line on screen or in a file (each becomes one space).
LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
#: C0, DEL, C1, the bidi controls and marks, the line and paragraph separators.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _visible(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def visible_controls(text: object, *, keep: str = "") -> str:
    """``text`` with every control character written visibly (the module's convention).

    Characters in ``keep`` (only ``"\\n"`` and ``"\\t"`` are meaningful) stay;
    other line breaks and tabs become a space; any other control character
    becomes its Python escape (``"\\x1b"``, ``"\\u202e"``).
    """

    def one(match: re.Match[str]) -> str:
        ch = match.group()
        if ch in keep:
            return ch
        if ch in LINE_BREAKS or ch == "\t":
            return " "
        return _visible(ch)

    return CONTROL.sub(one, str(text))


# --- LaTeX ---------------------------------------------------------------------------

_TEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "#": r"\#",
    "%": r"\%",
    "_": r"\_",
    "^": r"\textasciicircum{}",
    "~": r"\textasciitilde{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "|": r"\textbar{}",
    '"': r"\textquotedbl{}",
}
# Non-ASCII text pdflatex (utf8 input, T1 fonts) typesets without extra packages.
_TEX_UNICODE_OK = re.compile("[\u00a0-\u00ff\u0100-\u017f\u2013\u2014\u2018\u2019\u201c\u201d]")
_TEX_UNICODE_MATH = {
    "≤": r"$\leq$",
    "≥": r"$\geq$",
    "×": r"$\times$",
    "→": r"$\to$",
    "…": r"\dots{}",
    "−": r"$-$",
    "·": r"$\cdot$",
    "σ": r"$\sigma$",
    "δ": r"$\delta$",
    "η": r"$\eta$",
    "ε": r"$\varepsilon$",
    "ϵ": r"$\epsilon$",
    "θ": r"$\theta$",
    "μ": r"$\mu$",
    "λ": r"$\lambda$",
    "Σ": r"$\Sigma$",
    "∂": r"$\partial$",
    "Δ": r"$\Delta$",
    "≠": r"$\neq$",
    "⊙": r"$\odot$",
    "α": r"$\alpha$",
    "β": r"$\beta$",
    "γ": r"$\gamma$",
    "←": r"$\leftarrow$",
    "⌊": r"$\lfloor$",
    "⌋": r"$\rfloor$",
    "√": r"$\surd$",
    "ᵗ": r"$^{t}$",
    "⁺": r"$^{+}$",
    "⁻": r"$^{-}$",
    **{chr(0x2070 + d): f"$^{{{d}}}$" for d in (0, 4, 5, 6, 7, 8, 9)},
    **{chr(0x2080 + d): f"$_{{{d}}}$" for d in range(10)},
}


def tex_escape(text: object) -> str:
    """``text`` as LaTeX text-mode source that typesets it literally.

    Characters pdflatex cannot typeset without extra packages are written as
    ``[U+XXXX]`` rather than breaking the build. Lines may break after ``_``,
    and after a ``/`` or ``.`` followed by a letter (file names, URLs), so that
    no long name runs into the margin. Line breaks become spaces.
    """
    out = []
    prev = ""
    text = visible_controls(text)
    for n, ch in enumerate(text):
        if ch in "`'-<>," and ch == prev:  # no ligatures: -- stays two hyphens
            out.append("{}")
        prev = ch
        if ch in _TEX_SPECIALS:
            out.append(_TEX_SPECIALS[ch])
            if ch == "_":  # file names and identifiers may break after _
                out.append(r"\allowbreak{}")
        elif ch in "/." and text[n + 1 : n + 2].isalpha():  # URLs (never 1/2 or 0.5)
            out.append(ch + r"\allowbreak{}")
        elif ch in _TEX_UNICODE_MATH:
            out.append(_TEX_UNICODE_MATH[ch])
        elif ord(ch) < 128 or _TEX_UNICODE_OK.match(ch):
            out.append(ch)
        else:
            out.append(f"[U+{ord(ch):04X}]")
    return "".join(out)


def tex_comment(text: object) -> str:
    """``text`` for the rest of a ``%`` comment line: one line, no control character.

    TeX skips everything after ``%`` up to the end of the line, so only the end
    of the line matters: line breaks become spaces and other controls are
    written visibly. The text is otherwise kept as it reads (``\\input{x}``
    stays, harmless, inside the comment).
    """
    return visible_controls(text).strip()


# --- HTML and Markdown -------------------------------------------------------------


def html_escape(text: object) -> str:
    """``text`` with ``& < > " '`` escaped for HTML (a text node or a quoted attribute).

    Newlines and tabs stay (HTML white space); other controls are written visibly.
    """
    return str(_markupsafe_escape(visible_controls(text, keep="\n\t")))


_MD_SPECIALS = re.compile(r"([\\`*_{}\[\]#|$~!])")


def md_escape(text: object) -> str:
    """``text`` for Markdown: one line, HTML-escaped, Markdown punctuation backslash-escaped."""
    flat = " ".join(visible_controls(text).split())
    # Markdown's punctuation first, then HTML: an entity's ``#`` (``&#34;``) stays live.
    return html_escape(_MD_SPECIALS.sub(r"\\\1", flat)).replace("&#39;", "'")


def md_code(text: object) -> str:
    """``text`` as a Markdown code span (shown literally; ``|`` escaped for tables).

    Text with ``<``, ``>`` or ``&`` is escaped as prose instead (:func:`md_escape`):
    a code span cannot escape them, and some renderers pass HTML through.
    """
    shown = visible_controls(text)
    if any(c in shown for c in "<>&"):
        return md_escape(shown)
    flat = " ".join(shown.split()).replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


# --- Moodle: GIFT and XML ------------------------------------------------------------

_GIFT_SPECIAL = str.maketrans({c: "\\" + c for c in "\\~=#{}:"})


def gift_escape(text: object) -> str:
    """``text`` for GIFT: one line, GIFT's special characters (``~ = # { } : \\``) escaped.

    A blank line ends a GIFT question, so no line break survives: a name can
    never start a question of its own.
    """
    return visible_controls(text).translate(_GIFT_SPECIAL)


def xml_text(text: object) -> str:
    """``text`` for an XML text node or attribute written by :mod:`xml.etree.ElementTree`.

    ElementTree escapes ``& < >`` (and ``"`` in attributes) itself, so
    ``]]>`` and ``<script>`` come out as ``]]&gt;`` and ``&lt;script&gt;``;
    this removes what XML 1.0 cannot carry at all (control characters,
    written visibly) and keeps newlines and tabs.
    """
    return visible_controls(text, keep="\n\t")


# --- CSV ---------------------------------------------------------------------------

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> str:
    """``value`` as a CSV cell: one line, and never a spreadsheet formula.

    Numbers (``int``, ``float``, :class:`~fractions.Fraction`, or text that
    reads as a decimal number such as ``"-0.25"``) are written as they are. A
    text cell is put on one line (controls written visibly) and prefixed with
    ``'`` when it starts with ``= + - @``: the :mod:`csv` module quotes it, and a
    spreadsheet shows it as text instead of evaluating it.
    """
    if isinstance(value, Number) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    if _NUMBER.fullmatch(text):
        return text
    if text.startswith(_FORMULA_START):
        text = "'" + text
    return visible_controls(text)


# --- terminal ----------------------------------------------------------------------


def terminal_text(text: object, *, lines: bool = False) -> str:
    """``text`` for a terminal: no escape sequence, no bidi override, no carriage return.

    One line (every line break a space) unless ``lines`` is true, which keeps
    ``\\n`` and tabs for a report of several lines. Everything else that a
    terminal would act on instead of showing (ESC, BEL, backspace, C1 CSI ...)
    is written visibly: ``\\x1b]0;title\\x07`` prints as that text.
    """
    return visible_controls(text, keep="\n\t" if lines else "")


def rich_markup(text: object) -> str:
    """``text`` for a :mod:`rich` markup string (``console.print``, a column's template).

    :func:`terminal_text`, then :func:`rich.markup.escape`: ``[bold]`` in a name
    prints as ``[bold]`` and ``[/x]`` cannot end the surrounding style.
    """
    from rich.markup import escape

    return escape(terminal_text(text))


# --- JSON and plots ----------------------------------------------------------------

_JSON_RAW = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def json_text(text: str) -> str:
    """JSON text from ``json.dumps(..., ensure_ascii=False)`` with no control character raw.

    :mod:`json` escapes C0 controls itself; the controls it leaves raw (DEL, C1,
    the bidi controls, U+2028, U+2029) can only occur inside strings, where
    they are replaced by their ``\\uXXXX`` escapes: the value read back is the same.
    """
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def plot_text(text: object) -> str:
    """``text`` for a matplotlib title or label: one line, ``$`` shown (never mathtext)."""
    return visible_controls(text).replace("$", r"\$")
