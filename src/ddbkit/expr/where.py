"""The where language: one string syntax for every condition, parsed into expression nodes.

DynamoDB's condition grammar with the values written inline; every name and value later becomes
a placeholder (see :mod:`ddbkit.expr.expressions`), so reserved words just work::

    where       := or_expr
    or_expr     := and_expr ("OR" and_expr)*
    and_expr    := not_expr ("AND" not_expr)*                  -- NOT > AND > OR
    not_expr    := "NOT" not_expr | primary
    primary     := "(" where ")"
                 | "attribute_exists" "(" path ")" | "attribute_not_exists" "(" path ")"
                 | "attribute_type" "(" path "," string ")"   -- S SS N NS B BS BOOL NULL L M
                 | "begins_with" "(" path "," operand ")" | "contains" "(" path "," operand ")"
                 | operand comparator operand
                 | operand "BETWEEN" operand "AND" operand
                 | operand "IN" "(" operand ("," operand)* ")" -- 1 to 100 operands
    comparator  := "=" | "<>" | "<" | "<=" | ">" | ">="
    operand     := path | value | "size" "(" path ")"
    path        := name ("." name | "[" digits "]")*
    name        := word | "`" (any character but "`" | "``")+ "`"
    word        := (letter | "_") (letter | digit | "_" | combining mark)*, not a keyword
    value       := string | number | binary | "true" | "false" | "null" | list | map | set
                 | param
    param       := ":" word                                    -- bound from params, never text
    string      := "'" ... "'" | '"' ... '"'
    number      := ["-"] digits ["." digits] [("e" | "E") ["+" | "-"] digits]
    binary      := ("x" | "X") string                          -- hex digits: x'00ff'
    list        := "[" [value ("," value)*] "]"
    map         := "{" [string ":" value ("," string ":" value)*] "}"
    set         := "<<" value ("," value)* ">>"                -- all strings/numbers/binary

Update clauses (``Table.update(set=..., add=..., remove=..., delete=...)``, ``--set`` ...)::

    set_clause    := path "=" set_value ("," path "=" set_value)*
    set_value     := set_operand [("+" | "-") set_operand]
    set_operand   := path | value | "if_not_exists" "(" path "," set_operand ")"
                   | "list_append" "(" set_operand "," set_operand ")"
    add_clause    := path "=" (number | set) ("," path "=" (number | set))*
    delete_clause := path "=" set ("," path "=" set)*
    remove_clause := path ("," path)*                          -- also projections

Rules worth knowing:

* Keywords (AND OR NOT BETWEEN IN TRUE FALSE NULL) and function names are case-insensitive. A word
  followed by "(" is a function call; otherwise it is a name, so ``size > 3`` compares the
  attribute ``size``. A name that is a keyword, starts with a digit or holds other characters
  (space, "-", ".") goes in backticks, with a backtick inside doubled: ```it``s```; after a dot
  any word is a name (``a.in``). Backticks keep a name whole: ```a.b``` is one attribute.
* Strings take JSON's backslash escapes plus ``\\'``: ``\\\\ \\' \\" \\/ \\b \\f \\n \\r \\t
  \\uXXXX`` (a surrogate pair for characters beyond U+FFFF); any other backslash is an error, so
  a JSON string or document is a valid literal.
* Numbers are exact: ``int`` without a point or exponent, else ``decimal.Decimal``; never float.
  A minus before a number negates it (``a > -1``), except after a SET operand, where it
  subtracts (``n - 1``; ``n - -1`` adds one).
* Binary values are hex in quotes after ``x``: ``x'00ff'``.
* Sets use PartiQL's ``<<...>>`` (DynamoDB's own SQL dialect); maps are JSON-like with quoted keys.
* Named parameters: ``:name`` stands for ``params["name"]``, any Python value DynamoDB can store.
  Put a user's value in a condition this way, never by formatting it into the text: the value is
  never parsed, so ``x = "zz' OR name <> 'zz"`` stays one string compared with ``name``. A
  parameter without a value, or a value no ``:name`` uses, is an error.

Errors are :class:`~ddbkit.errors.WhereSyntaxError`: one reason, and the text with a caret under
the column at fault.
"""

from __future__ import annotations

import decimal
import functools
import re
import string
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from ddbkit.errors import ValidationError, WhereSyntaxError
from ddbkit.expr.expressions import (
    ATTRIBUTE_TYPES,
    COMPARATORS,
    CONDITION_TYPES,
    MAX_IN_OPTIONS,
    And,
    Arithmetic,
    AttributeType,
    BeginsWith,
    Between,
    Compare,
    Condition,
    Contains,
    Exists,
    IfNotExists,
    In,
    ListAppend,
    Not,
    NotExists,
    Operand,
    Or,
    Param,
    Path,
    SetOperand,
    Size,
    UpdateOperand,
    Value,
    check_add_value,
    check_delete_value,
    is_name_char,
    is_name_start,
    keyword,
)
from ddbkit.values.serialize import to_attribute

if TYPE_CHECKING:
    from boto3.dynamodb.conditions import ConditionBase

__all__ = [
    "MAX_NESTING",
    "Bindings",
    "WhereInput",
    "as_condition",
    "bind_condition",
    "from_boto3",
    "param_targets",
    "parse_add_clause",
    "parse_delete_clause",
    "parse_path",
    "parse_path_list",
    "parse_remove_clause",
    "parse_set_clause",
    "parse_where",
]

WhereInput: TypeAlias = "str | Condition | ConditionBase | None"

# -- lexer --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Token:
    """One token; ``text`` is its exact source text starting at offset ``pos``.

    ``kind`` is "word", "name" (backticks), "string", "binary", "number", "end", or the symbol
    itself ("=", "<=", "(", "<<" ...). ``value`` holds the decoded name, string or bytes.
    """

    kind: str
    text: str
    pos: int
    value: Any = None


# Longest first, so "<=" is never read as "<" then "=".
_SYMBOLS = ("<<", ">>", "<>", "<=", ">=", *"=<>()[]{},.:+-")
_MISTAKES = {
    "==": "use = to compare, not ==",
    "!=": "use <> for not-equal, not !=",
    "&&": "use AND, not &&",
    "||": "use OR, not ||",
}
_DIGITS = "0123456789"
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_ESCAPES = {
    "\\": "\\",
    "'": "'",
    '"': '"',
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}


def _error(reason: str, text: str, position: int, what: str = "where-clause") -> WhereSyntaxError:
    return WhereSyntaxError(reason, text=text, position=position, what=what)


def _lex(text: str) -> list[Token]:
    tokens = []
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            tokens.append(Token("end", "", len(text)))
            return tokens
        token = _next_token(text, pos)
        tokens.append(token)
        pos = token.pos + len(token.text)


def _next_token(text: str, pos: int) -> Token:
    char = text[pos]
    if char in "'\"":
        return _lex_string(text, pos)
    if char == "`":
        return _lex_backtick_name(text, pos)
    if char in _DIGITS:
        return _lex_number(text, pos)
    if is_name_start(char):
        return _lex_word(text, pos)
    for mistake, reason in _MISTAKES.items():
        if text.startswith(mistake, pos):
            raise _error(reason, text, pos)
    for symbol in _SYMBOLS:
        if text.startswith(symbol, pos):
            return Token(symbol, symbol, pos)
    raise _error(f"unexpected character {char!r}", text, pos)


def _lex_string(text: str, start: int) -> Token:
    quote = text[start]
    out = []
    pos = start + 1
    while True:
        if pos >= len(text):
            raise _error("unclosed string", text, start)
        char = text[pos]
        if char == quote:
            break
        if char == "\\":
            decoded, pos = _lex_escape(text, pos, start)
            out.append(decoded)
            continue
        out.append(char)
        pos += 1
    return Token("string", text[start : pos + 1], start, _join_surrogates(out, text, start))


def _lex_escape(text: str, pos: int, start: int) -> tuple[str, int]:
    """The character a backslash escape at ``pos`` stands for, and where the string goes on."""
    if pos + 1 >= len(text):
        raise _error("unclosed string", text, start)
    letter = text[pos + 1]
    if letter in _ESCAPES:
        return _ESCAPES[letter], pos + 2
    if letter == "u":
        digits = text[pos + 2 : pos + 6]
        if len(digits) != 4 or not all(c in string.hexdigits for c in digits):
            raise _error("\\u needs four hex digits, like \\u00e9", text, pos)
        return chr(int(digits, 16)), pos + 6
    raise _error(f"unknown escape '\\{letter}' in a string: write \\\\ for a backslash", text, pos)


def _join_surrogates(chars: list[str], text: str, start: int) -> str:
    joined = "".join(chars)
    if not any("\ud800" <= c <= "\udfff" for c in joined):
        return joined
    # \ud83d\ude00 is how JSON writes one character beyond U+FFFF; a lone half cannot be stored.
    try:
        return joined.encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeDecodeError:
        raise _error("a \\u escape leaves half of a surrogate pair", text, start) from None


def _lex_backtick_name(text: str, start: int) -> Token:
    out = []
    pos = start + 1
    while True:
        if pos >= len(text):
            raise _error("unclosed backtick name", text, start)
        if text[pos] == "`":
            if text.startswith("``", pos):  # a doubled backtick is one backtick of the name
                out.append("`")
                pos += 2
                continue
            break
        out.append(text[pos])
        pos += 1
    if not out:
        raise _error("empty name in backticks", text, start)
    return Token("name", text[start : pos + 1], start, "".join(out))


def _lex_number(text: str, start: int) -> Token:
    match = _NUMBER.match(text, start)
    assert match is not None  # the caller saw a digit
    end = match.end()
    if end < len(text) and is_name_char(text[end]):
        word_end = end
        while word_end < len(text) and is_name_char(text[word_end]):
            word_end += 1
        if match.group().isdigit():
            word = text[start:word_end]
            raise _error(
                f"a name that starts with a digit goes in backticks, like `{word}`", text, start
            )
        raise _error(f"unexpected {text[end]!r} after a number", text, end)
    return Token("number", match.group(), start)


def _lex_word(text: str, start: int) -> Token:
    pos = start + 1
    while pos < len(text) and is_name_char(text[pos]):
        pos += 1
    word = text[start:pos]
    if word in ("x", "X") and pos < len(text) and text[pos] in "'\"":
        return _lex_binary(text, start)
    return Token("word", word, start)


def _lex_binary(text: str, start: int) -> Token:
    quoted = _lex_string(text, start + 1)
    digits = quoted.value
    if len(digits) % 2 or not all(c in string.hexdigits for c in digits):
        raise _error("a binary literal holds pairs of hex digits, like x'00ff'", text, start)
    return Token("binary", text[start] + quoted.text, start, bytes.fromhex(digits))


# -- parameters ---------------------------------------------------------------------------------


class Bindings:
    """Values for the named parameters (``:name``) of one or more texts, and which were used.

    One Bindings serves every text of a request (an update's clauses and its condition), so a
    value no text uses is caught once all are parsed (:meth:`check_used`). ``lenient`` leaves
    parameters without a value as :class:`~ddbkit.expr.expressions.Param` nodes (to find what they
    are compared with) instead of refusing them.
    """

    def __init__(self, params: Mapping[str, Any] | None = None, *, lenient: bool = False) -> None:
        if params is not None and not isinstance(params, Mapping):
            raise ValidationError(
                f"params is a dict of parameter name -> value, not {type(params).__name__}"
            )
        self.params: dict[str, Any] = {}
        for key, value in (params or {}).items():
            name = key[1:] if isinstance(key, str) and key.startswith(":") else key
            if not isinstance(name, str) or not _is_param_name(name):
                raise ValidationError(
                    f"parameter name {key!r} is not a word: use letters, digits and _, "
                    "starting with a letter or _ (written :name in the text)"
                )
            self.params[name] = value
        self.given = params is not None
        self.lenient = lenient
        self.used: set[str] = set()

    def value(self, name: str) -> Any:
        """The value of ``:name``; KeyError if there is none (the parser says where)."""
        if name in self.params:
            self.used.add(name)
            value = self.params[name]
            try:
                to_attribute(value)  # refused here, naming the parameter, not the attribute
            except ValidationError as exc:
                raise ValidationError(f"parameter :{name}: {exc}") from None
            return value
        if self.lenient:
            return Param(name)
        raise KeyError(name)

    def check_used(self) -> None:
        unused = sorted(set(self.params) - self.used)
        if unused:
            names = ", ".join(f":{name}" for name in unused)
            raise ValidationError(
                f"params {names} not used: write :name where each value goes, or leave it out"
            )


def _is_param_name(name: str) -> bool:
    return bool(name) and is_name_start(name[0]) and all(is_name_char(c) for c in name[1:])


# -- parser -------------------------------------------------------------------------------------

_CONDITION_FUNCTIONS = frozenset(
    {"attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains"}
)
_SET_FUNCTIONS = frozenset({"if_not_exists", "list_append"})
_NOTHING = object()  # "no value here", since None is the value null
# Parentheses, NOT, list/map literals and SET functions nest; past this depth the text is refused
# with a caret instead of overflowing Python's stack (DynamoDB keeps values to 32 levels anyway).
MAX_NESTING = 64


class _Parser:
    """Recursive descent over the tokens of one text; ``what`` names the text in errors."""

    def __init__(self, text: str, what: str, bindings: Bindings | None = None) -> None:
        self.bindings = bindings or Bindings()
        if not isinstance(text, str):
            raise ValidationError(f"a {what} is a string, not {type(text).__name__}")
        if not text.strip():
            raise _error(f"empty {what}", text, 0, what)
        self.text = text
        self.what = what
        try:
            self.tokens = _lex(text)
        except WhereSyntaxError as exc:
            raise _error(exc.reason, text, exc.position, what) from None
        self.index = 0
        self.depth = 0

    # -- token access ---------------------------------------------------------------------------

    @property
    def tok(self) -> Token:
        return self.tokens[self.index]

    def ahead(self, n: int = 1) -> Token:
        return self.tokens[min(self.index + n, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.tok
        if token.kind != "end":
            self.index += 1
        return token

    def previous_text(self) -> str:
        return self.tokens[self.index - 1].text if self.index else ""

    def error(self, reason: str, at: Token | None = None) -> WhereSyntaxError:
        """A syntax error at ``at`` (default: the current token), to raise."""
        return _error(reason, self.text, (at or self.tok).pos, self.what)

    def at_keyword(self, *words: str) -> bool:
        return self.tok.kind == "word" and keyword(self.tok.text) in words

    def at_call(self) -> bool:
        """A word followed by "(" is a function call, whatever the word."""
        return self.tok.kind == "word" and self.ahead().kind == "("

    def expect(self, kind: str, reason: str) -> Token:
        if self.tok.kind != kind:
            raise self.error(reason)
        return self.take()

    def finish(self, hint: str) -> None:
        if self.tok.kind == ")":
            raise self.error("unexpected ')'")
        if self.tok.kind != "end":
            raise self.error(f"trailing input: {hint}")

    @contextmanager
    def nested(self) -> Iterator[None]:
        """One level deeper; refused past ``MAX_NESTING``."""
        if self.depth >= MAX_NESTING:
            raise self.error(f"nested too deeply (more than {MAX_NESTING} levels)")
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1

    def after(self) -> str:
        """`` after '='`` naming the token just read, for "expected ..." messages."""
        previous = self.previous_text()
        return f" after {previous!r}" if previous else ""

    # -- conditions -----------------------------------------------------------------------------

    def condition(self) -> Condition:
        items = [self.and_expr()]
        while self.at_keyword("OR"):
            self.take()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self) -> Condition:
        items = [self.not_expr()]
        while self.at_keyword("AND"):
            self.take()
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else And(tuple(items))

    def not_expr(self) -> Condition:
        if self.at_keyword("NOT"):
            with self.nested():
                self.take()
                return Not(self.not_expr())
        return self.primary()

    def primary(self) -> Condition:
        token = self.tok
        if token.kind == "(":
            with self.nested():
                self.take()
                inner = self.condition()
            if self.tok.kind != ")":
                raise self.error(f"expected ')' to close the '(' at column {token.pos + 1}")
            self.take()
            return inner
        if self.at_call() and token.text.lower() in _CONDITION_FUNCTIONS:
            return self.condition_function()
        if token.kind == ")" and self.previous_text() != "(":
            raise self.error("unexpected ')'")
        if token.kind in ("end", ")") or self.at_keyword("AND", "OR"):
            raise self.error(f"expected a condition{self.after()}")
        return self.predicate(self.operand(), token.pos)

    def predicate(self, left: Operand, start: int) -> Condition:
        """What follows an operand (which began at offset ``start``): comparison, BETWEEN, IN."""
        token = self.tok
        if token.kind in COMPARATORS:
            self.take()
            compare = Compare(token.kind, left, self.operand())
            if self.tok.kind in COMPARATORS:
                raise self.error("comparisons do not chain: write a < b AND b < c")
            return compare
        if self.at_keyword("BETWEEN"):
            return self.between(left)
        if self.at_keyword("IN"):
            return self.in_list(left)
        if self.at_keyword("NOT"):
            raise self.error("NOT goes before the whole condition, like NOT a IN (1, 2)")
        if token.kind == "word" and token.text.upper() == "IS":
            raise self.error("IS is not supported: write a = null, or attribute_not_exists(a)")
        shown = self.text[start : token.pos].strip()
        raise self.error(f"expected =, <>, <, <=, >, >=, BETWEEN or IN after {shown!r}")

    def between(self, subject: Operand) -> Between:
        self.take()
        low = self.operand()
        if not self.at_keyword("AND"):
            raise self.error("expected AND in BETWEEN ... AND ...")
        self.take()
        return Between(subject, low, self.operand())

    def in_list(self, subject: Operand) -> In:
        self.take()
        self.expect("(", "expected '(' after IN, like a IN (1, 2)")
        options = [self.operand()]
        while self.tok.kind == ",":
            self.take()
            if len(options) == MAX_IN_OPTIONS:
                raise self.error(f"IN takes at most {MAX_IN_OPTIONS} values (DynamoDB's limit)")
            options.append(self.operand())
        self.expect(")", "expected ',' or ')' in the IN list")
        return In(subject, tuple(options))

    def condition_function(self) -> Condition:
        name = self.take().text.lower()
        self.take()  # "("
        path = self.path_argument(name)
        if name == "attribute_exists":
            result: Condition = Exists(path)
        elif name == "attribute_not_exists":
            result = NotExists(path)
        else:
            self.expect(",", f"{name} takes two arguments: expected ','")
            if name == "attribute_type":
                result = AttributeType(path, self.type_name())
            elif name == "begins_with":
                result = BeginsWith(path, self.operand())
            else:
                result = Contains(path, self.operand())
        self.expect(")", f"expected ')' to end {name}(...)")
        return result

    def path_argument(self, function: str) -> Path:
        if self.tok.kind not in ("word", "name") or self.at_call() or self._at_value_keyword():
            raise self.error(f"{function} takes an attribute path first, like {function}(a.b)")
        return self.path()

    def type_name(self) -> str:
        token = self.tok
        if token.kind != "string":
            raise self.error("the type goes in quotes, like attribute_type(a, 'S')")
        self.take()
        # ASCII only: "ß".upper() == "SS" must not pass as a type name.
        name = token.value.upper() if token.value.isascii() else token.value
        if name not in ATTRIBUTE_TYPES:
            raise self.error(
                f"unknown attribute type {token.value!r}: use one of {', '.join(ATTRIBUTE_TYPES)}",
                token,
            )
        return str(name)

    # -- operands and paths ---------------------------------------------------------------------

    def operand(self) -> Operand:
        if self.at_call():
            return self.size_call()
        if self.tok.kind in ("word", "name") and not self._at_value_keyword():
            if self.tok.kind == "word" and keyword(self.tok.text):
                raise self.error(f"expected a value{self.after()}")
            return self.path()
        value = self.value()
        if value is _NOTHING:
            raise self.error(f"expected a value{self.after()}")
        return Value(value)

    def size_call(self) -> Size:
        token = self.tok
        name = token.text.lower()
        if name in _CONDITION_FUNCTIONS:
            raise self.error(f"{name}(...) is a condition, not a value to compare")
        if name != "size":
            raise self.error(f"unknown function {token.text!r}")
        self.take()
        self.take()  # "("
        path = self.path_argument("size")
        self.expect(")", "expected ')' to end size(...)")
        return Size(path)

    def _at_value_keyword(self) -> bool:
        return self.at_keyword("TRUE", "FALSE", "NULL")

    def path(self) -> Path:
        parts: list[str | int] = [self.name_part()]
        while self.tok.kind in (".", "["):
            if self.take().kind == ".":
                if self.tok.kind not in ("word", "name"):
                    raise self.error(
                        "expected a name after '.' (a list index goes in brackets: a[0])"
                    )
                parts.append(self.name_part(after_dot=True))
            else:
                parts.append(self.index_part())
        return Path(tuple(parts))

    def name_part(self, *, after_dot: bool = False) -> str:
        token = self.tok
        if token.kind == "name":
            self.take()
            return str(token.value)
        if token.kind != "word":
            raise self.error(f"expected an attribute name{self.after()}")
        if not after_dot and keyword(token.text):
            # After a dot only a name can follow, so a.in is fine; elsewhere IN is an operator.
            raise self.error(
                f"{token.text!r} is a keyword: write `{token.text}` to use it as a name"
            )
        self.take()
        return token.text

    def index_part(self) -> int:
        token = self.tok
        if token.kind != "number" or not token.text.isdigit():
            raise self.error("a list index is a whole number of 0 or more, like a[0]")
        self.take()
        self.expect("]", "expected ']' after the list index")
        return self._int(token)

    # -- values ---------------------------------------------------------------------------------

    def value(self) -> Any:
        """The literal at the current token, or ``_NOTHING`` (nothing consumed) if none."""
        token = self.tok
        if token.kind in ("string", "binary"):
            self.take()
            return token.value
        if token.kind == "number":
            self.take()
            return self._number(token.text, token)
        if token.kind == "-" and self.ahead().kind == "number":
            self.take()
            return self._number("-" + self.take().text, token)
        word = keyword(token.text) if token.kind == "word" else None
        if word in ("TRUE", "FALSE", "NULL"):
            self.take()
            return {"TRUE": True, "FALSE": False, "NULL": None}[word]
        if token.kind == "[":
            with self.nested():
                return self.list_literal()
        if token.kind == "{":
            with self.nested():
                return self.map_literal()
        if token.kind == "<<":
            return self.set_literal()
        if token.kind == ":":
            return self.param()
        return _NOTHING

    def param(self) -> Any:
        colon = self.tok
        name = self.ahead()
        if name.kind != "word" or name.pos != colon.pos + 1:
            raise self.error("a parameter is written :name, like age > :min")
        self.take()
        self.take()
        try:
            return self.bindings.value(name.text)
        except KeyError:
            how = "params={" + repr(name.text) + ": ...}" + f" (--param {name.text}=VALUE)"
            raise self.error(f"no value for :{name.text}: pass {how}", colon) from None

    def required_value(self, where: str) -> Any:
        value = self.value()
        if value is _NOTHING:
            raise self.error(f"expected a value {where}")
        return value

    def list_literal(self) -> list[Any]:
        self.take()
        items: list[Any] = []
        if self.tok.kind == "]":
            self.take()
            return items
        items.append(self.required_value("in the list"))
        while self.tok.kind == ",":
            self.take()
            items.append(self.required_value("in the list"))
        self.expect("]", "expected ',' or ']' in the list")
        return items

    def map_literal(self) -> dict[str, Any]:
        self.take()
        items: dict[str, Any] = {}
        if self.tok.kind == "}":
            self.take()
            return items
        while True:
            key = self.expect("string", "a map key is a quoted string, like {'k': 1}")
            self.expect(":", "expected ':' after the map key")
            items[str(key.value)] = self.required_value(f"for the key {key.value!r}")
            if self.tok.kind != ",":
                break
            self.take()
        self.expect("}", "expected ',' or '}' in the map")
        return items

    def set_literal(self) -> frozenset[Any]:
        opening = self.take()
        members = [self._set_member()]
        while self.tok.kind == ",":
            self.take()
            members.append(self._set_member())
        self.expect(">>", "expected ',' or '>>' in the set")
        kinds = {_set_kind(m) for m in members}
        if len(kinds) > 1:
            raise self.error(
                "a set holds only strings, only numbers or only binary values", opening
            )
        return frozenset(members)

    def _set_member(self) -> Any:
        token = self.tok
        if self.tok.kind == ">>":
            raise self.error("a set cannot be empty (DynamoDB stores no empty sets)")
        member = self.required_value("in the set")
        if _set_kind(member) is None:
            raise self.error("a set holds strings, numbers or binary values", token)
        return member

    def _number(self, text: str, token: Token) -> int | decimal.Decimal:
        if "." not in text and "e" not in text and "E" not in text:
            return self._int(token, text)
        try:
            return decimal.Decimal(text)
        except decimal.InvalidOperation:  # an exponent beyond what decimal can hold at all
            raise self.error("number out of range", token) from None

    def _int(self, token: Token, text: str | None = None) -> int:
        try:
            return int(token.text if text is None else text)
        except ValueError:  # Python refuses int() of more than 4300 digits
            raise self.error("number too long", token) from None

    # -- update clauses -------------------------------------------------------------------------

    def assignments(self, read: Callable[[], Any]) -> list[tuple[Path, Any]]:
        pairs = [self.assignment(read)]
        while self.tok.kind == ",":
            self.take()
            pairs.append(self.assignment(read))
        self.finish("separate assignments with ','")
        return pairs

    def assignment(self, read: Callable[[], Any]) -> tuple[Path, Any]:
        if self.tok.kind not in ("word", "name"):
            raise self.error(f"expected an attribute path{self.after()}")
        path = self.path()
        self.expect("=", f"expected '=' after {path.debug()!r}")
        return path, read()

    def set_value(self) -> UpdateOperand:
        left = self.set_operand()
        if self.tok.kind in ("+", "-"):
            op = self.take().kind
            right = self.set_operand()
            if self.tok.kind in ("+", "-"):
                raise self.error("SET allows one + or - per value (DynamoDB's rule)")
            return Arithmetic(op, left, right)
        return left

    def set_operand(self) -> SetOperand:
        if self.at_call():
            with self.nested():
                return self.set_function()
        if self.tok.kind in ("word", "name") and not self._at_value_keyword():
            return self.path()
        value = self.value()
        if value is _NOTHING:
            raise self.error(f"expected a value{self.after()}")
        return Value(value)

    def set_function(self) -> SetOperand:
        token = self.take()
        name = token.text.lower()
        if name not in _SET_FUNCTIONS:
            raise self.error(
                f"unknown function {token.text!r} in SET: use if_not_exists or list_append", token
            )
        self.take()  # "("
        if name == "if_not_exists":
            path = self.path_argument(name)
            self.expect(",", "if_not_exists takes two arguments: expected ','")
            result: SetOperand = IfNotExists(path, self.set_operand())
        else:
            first = self.set_operand()
            self.expect(",", "list_append takes two arguments: expected ','")
            result = ListAppend(first, self.set_operand())
        self.expect(")", f"expected ')' to end {name}(...)")
        return result

    def add_value(self) -> Value:
        return self._checked_value(check_add_value, "ADD takes a number or a set")

    def delete_value(self) -> Value:
        return self._checked_value(check_delete_value, "DELETE takes a set, like tags = <<'a'>>")

    def _checked_value(self, check: Callable[[Any, str], None], reason: str) -> Value:
        token = self.tok
        value = self.value()
        if value is _NOTHING:
            raise self.error(f"{reason}: expected a value{self.after()}")
        try:
            check(value, "")
        except ValidationError:
            raise self.error(reason, token) from None
        return Value(value)

    def path_list(self) -> list[Path]:
        paths = [self.path_item()]
        while self.tok.kind == ",":
            self.take()
            paths.append(self.path_item())
        self.finish("separate paths with ','")
        return paths

    def path_item(self) -> Path:
        if self.tok.kind not in ("word", "name"):
            raise self.error(f"expected an attribute path{self.after()}")
        return self.path()


def _set_kind(member: Any) -> str | None:
    if isinstance(member, str):
        return "S"
    if isinstance(member, (bytes, bytearray)):
        return "B"
    if isinstance(member, (int, decimal.Decimal)) and not isinstance(member, bool):
        return "N"
    return None


# -- public parsing API -------------------------------------------------------------------------


def parse_where(text: str, params: Mapping[str, Any] | None = None) -> Condition:
    """The condition ``text`` states, its ``:name`` parameters bound from ``params``.

    WhereSyntaxError (with a caret) if it does not parse; ValidationError if a parameter has no
    value or a value no parameter uses.
    """
    bindings = Bindings(params)
    result = _parse_condition(text, bindings)
    bindings.check_used()
    return result


def bind_condition(text: str, bindings: Bindings) -> Condition:
    """Parse a where-clause with parameters from ``bindings`` shared with other texts; the
    caller checks they were all used (:meth:`Bindings.check_used`)."""
    return _parse_condition(text, bindings)


def _parse_condition(text: str, bindings: Bindings) -> Condition:
    parser = _Parser(text, "where-clause", bindings)
    result = parser.condition()
    parser.finish("join conditions with AND or OR")
    return result


def param_targets(*texts: str | None) -> dict[str, set[str]]:
    """For each ``:name`` in these where-clauses, the top-level attributes it is compared with.

    The command line types ``--param name=VALUE`` by this: as the key schema says when the
    parameter is compared with a key attribute. Texts that do not parse give nothing here; the
    real parse reports them.
    """
    targets: dict[str, set[str]] = {}
    for text in texts:
        if not text:
            continue
        try:
            condition = _parse_condition(text, Bindings(lenient=True))
        except ValidationError:
            continue
        for node in _walk(condition):
            subject, operands = _comparison(node)
            if isinstance(subject, Path):
                for operand in operands:
                    if isinstance(operand, Value) and isinstance(operand.value, Param):
                        name = str(subject.parts[0]) if len(subject.parts) == 1 else ""
                        targets.setdefault(operand.value.name, set()).add(name)
    return {name: {t for t in found if t} for name, found in targets.items()}


def _walk(condition: Condition) -> Iterator[Condition]:
    yield condition
    if isinstance(condition, (And, Or)):
        for item in condition.items:
            yield from _walk(item)
    elif isinstance(condition, Not):
        yield from _walk(condition.item)


def _comparison(node: Condition) -> tuple[Any, tuple[Any, ...]]:
    """(the attribute side, the other operands) of a comparison-like node."""
    if isinstance(node, Compare):
        if isinstance(node.left, Path):
            return node.left, (node.right,)
        return node.right, (node.left,)
    if isinstance(node, Between):
        return node.subject, (node.low, node.high)
    if isinstance(node, In):
        return node.subject, node.options
    if isinstance(node, BeginsWith):
        return node.path, (node.prefix,)
    if isinstance(node, Contains):
        return node.path, (node.operand,)
    return None, ()


def parse_path(text: str) -> Path:
    """One document path, like ``a.b[0].c`` or ```first name```."""
    parser = _Parser(text, "path")
    result = parser.path_item()
    parser.finish("a path is names joined by '.' and [index]")
    return result


def parse_path_list(text: str) -> list[Path]:
    """Comma-separated paths (projections): ``a, b.c[0]``."""
    return _Parser(text, "list of paths").path_list()


def parse_set_clause(
    text: str, bindings: Bindings | None = None
) -> list[tuple[Path, UpdateOperand]]:
    """``a = 1, n = n + 1, v = if_not_exists(v, 0) + 1, l = list_append(l, [1])``."""
    parser = _Parser(text, "SET clause", bindings)
    return parser.assignments(parser.set_value)


def parse_add_clause(text: str, bindings: Bindings | None = None) -> list[tuple[Path, Value]]:
    """``logins = 1, tags = <<'a'>>``: numbers to add, or set elements to add."""
    parser = _Parser(text, "ADD clause", bindings)
    return parser.assignments(parser.add_value)


def parse_delete_clause(text: str, bindings: Bindings | None = None) -> list[tuple[Path, Value]]:
    """``tags = <<'a', 'b'>>``: set elements to take out."""
    parser = _Parser(text, "DELETE clause", bindings)
    return parser.assignments(parser.delete_value)


def parse_remove_clause(text: str) -> list[Path]:
    """``a, b.c[0]``: paths to remove."""
    return _Parser(text, "REMOVE clause").path_list()


def as_condition(where: WhereInput, params: Mapping[str, Any] | None = None) -> Condition | None:
    """Any accepted form of a condition as nodes: text (its ``:name`` parameters bound from
    ``params``), nodes, or a boto3 Key/Attr condition."""
    if where is None:
        if params:
            names = ", ".join(f":{name}" for name in params)
            raise ValidationError(f"params {names} given without a condition to bind them in")
        return None
    if isinstance(where, str):
        return parse_where(where, params)
    if params is not None:
        raise ValidationError("params bind :name parameters in condition text only")
    if isinstance(where, CONDITION_TYPES):
        return where
    if _is_boto3_condition(where):
        return from_boto3(where)
    raise ValidationError(
        "a condition is where-clause text, a ddbkit condition or a boto3 Key/Attr condition, "
        f"not {type(where).__name__}"
    )


# -- boto3 conditions ---------------------------------------------------------------------------
# boto3 is imported only when a boto3 condition is met: importing it costs a command-line run
# more than everything else ddbkit imports (it pulls in s3transfer and multiprocessing).


@functools.cache
def _conditions() -> Any:
    from boto3.dynamodb import conditions

    return conditions


def _is_boto3_condition(value: Any) -> bool:
    # Only a caller that has imported boto3's conditions can hold one: never import them to ask.
    module = sys.modules.get("boto3.dynamodb.conditions")
    return module is not None and isinstance(value, module.ConditionBase)


_BOTO3_NAME_PIECE = re.compile(r"\[([0-9]+)\]|\.|[^.\[\]]+")


def from_boto3(condition: Any) -> Condition:
    """The nodes of a boto3 condition (``Key("a").eq(1) & Attr("b").exists()``)."""
    conditions = _conditions()
    values: Sequence[Any] = condition.get_expression()["values"]
    if isinstance(condition, (conditions.And, conditions.Or)):
        return _boto3_group(condition)
    if isinstance(condition, conditions.Not):
        return Not(from_boto3(values[0]))
    if isinstance(condition, conditions.In):
        return In(_boto3_operand(values[0]), _boto3_options(values[1]))
    if isinstance(condition, conditions.ComparisonCondition):
        operator = condition.get_expression()["operator"]
        return Compare(operator, _boto3_operand(values[0]), _boto3_operand(values[1]))
    if isinstance(condition, conditions.Between):
        low, high = _boto3_operand(values[1]), _boto3_operand(values[2])
        return Between(_boto3_operand(values[0]), low, high)
    if isinstance(condition, conditions.BeginsWith):
        return BeginsWith(_boto3_path_of(values[0]), _boto3_operand(values[1]))
    if isinstance(condition, conditions.Contains):
        return Contains(_boto3_path_of(values[0]), _boto3_operand(values[1]))
    if isinstance(condition, conditions.AttributeType):
        return AttributeType(_boto3_path_of(values[0]), values[1])
    if isinstance(condition, conditions.AttributeExists):
        return Exists(_boto3_path_of(values[0]))
    if isinstance(condition, conditions.AttributeNotExists):
        return NotExists(_boto3_path_of(values[0]))
    if isinstance(condition, conditions.Size):
        raise ValidationError("a boto3 size() needs a comparison, like Attr('a').size().gt(3)")
    raise ValidationError(f"unsupported boto3 condition {type(condition).__name__}")


def _boto3_group(condition: Any) -> Condition:
    # boto3 nests (a & b) & c; the same AND as a flat And, which is what parsing the text gives.
    group = And if isinstance(condition, _conditions().And) else Or
    items: list[Condition] = []
    for value in condition.get_expression()["values"]:
        item = from_boto3(value)
        items.extend(item.items if isinstance(item, group) else [item])
    return group(tuple(items))


def _boto3_options(values: Any) -> tuple[Operand, ...]:
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValidationError(f"boto3 is_in() takes a list of values, not {values!r}")
    return tuple(_boto3_operand(v) for v in values)


def _boto3_operand(value: Any) -> Operand:
    conditions = _conditions()
    if isinstance(value, conditions.Size):  # a Size is both a condition and an attribute in boto3
        return Size(_boto3_path_of(value.get_expression()["values"][0]))
    if isinstance(value, conditions.ConditionBase):
        raise ValidationError(f"a boto3 {type(value).__name__} condition is not a value")
    if isinstance(value, conditions.AttributeBase):
        return _boto3_path(value.name)
    return Value(value)


def _boto3_path_of(attribute: Any) -> Path:
    conditions = _conditions()
    if isinstance(attribute, conditions.AttributeBase) and not isinstance(
        attribute, conditions.ConditionBase
    ):
        return _boto3_path(attribute.name)
    raise ValidationError(f"expected a boto3 Key or Attr, got {type(attribute).__name__}")


def _boto3_path(name: Any) -> Path:
    """A boto3 attribute name split the way boto3 splits it: at dots and ``[n]``."""
    problem = ValidationError(
        f"boto3 attribute name {name!r} is not a path: names are split at '.' and '[n]'"
    )
    if not isinstance(name, str):
        raise problem
    parts: list[str | int] = []
    pos = 0
    expect_name = True
    while pos < len(name):
        match = _BOTO3_NAME_PIECE.match(name, pos)
        if match is None:
            raise problem
        piece = match.group()
        if piece == ".":
            if expect_name:
                raise problem
            expect_name = True
        elif match.group(1) is not None:
            if expect_name:
                raise problem
            parts.append(int(match.group(1)))
        else:
            if not expect_name:
                raise problem
            parts.append(piece)
            expect_name = False
        pos = match.end()
    if expect_name:
        raise problem
    return Path(tuple(parts))
