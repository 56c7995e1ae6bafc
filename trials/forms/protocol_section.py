"""The protocol file's `forms:` section, read node by node like the rest of the file.

Every problem is recorded with its line on the shared `NodeReader` (nothing is half read:
the protocol file refuses the whole file when any problem was found). Beyond each key's own
type, a form is checked as a whole: item and group codes are unique in it, every `show_if`,
`calc` and check `rule` parses and type-checks against the form's items and code lists, and
no calculation depends on itself. Expressions are only type-checked once every item of the
form has been read, so one broken item does not bury the file in "unknown item" messages.
"""

import re
from dataclasses import replace
from functools import partial

from yaml.nodes import MappingNode, Node, ScalarNode

from trials.protocol_validation import NodeReader, join, value_node

from .expressions import ExpressionError, ItemType, Ref, check, dependency_order, parse
from .spec import (
    ITEM_OPTIONAL_KEYS,
    ITEM_REQUIRED_KEYS,
    MISSING_CODES,
    SEVERITIES,
    CheckSpec,
    FormSpec,
    GroupSpec,
    ItemSpec,
    Text,
)

_LANGUAGE = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})*")
_NUMERIC = (ItemType.INTEGER, ItemType.DECIMAL)
_CHOICES = (ItemType.CHOICE, ItemType.MULTICHOICE)
_ITEM_TYPES = tuple(str(t) for t in ItemType)


def read_text(r: NodeReader, node: Node, path: str) -> Text | None:
    """A label: a string, or a mapping of language code to string."""
    if not isinstance(node, MappingNode):
        value = r.text(node, path)
        return None if value is None else Text.of(value)
    before = r.count()
    translations: dict[str, str] = {}
    for key_node, value_node_ in node.value:
        language = key_node.value if isinstance(key_node, ScalarNode) else None
        if not isinstance(language, str) or not _LANGUAGE.fullmatch(language):
            r.refuse(key_node, path, f"'{language}' is not a language code (e.g. en, zh-hans)")
            continue
        if language in translations:
            r.refuse(key_node, path, f"language '{language}' is given twice")
            continue
        value = r.text(value_node_, join(path, language))
        if value is not None:
            translations[language] = value
    if not node.value:
        r.refuse(node, path, "must give the text in at least one language")
    return Text.of(translations) if r.count() == before else None


def _item_code(r: NodeReader, node: Node, path: str) -> str | None:
    """A code expressions can name: a letter, then letters, digits and _ (no reserved word)."""
    value = r.text(node, path)
    if value is None:
        return None
    try:
        Ref(value)
        if "." in value:
            raise ExpressionError("")
    except ExpressionError:
        r.refuse(
            node,
            path,
            f"'{value}' is not an item code (a letter, then letters, digits and _; "
            "not a word of the expression language)",
        )
        return None
    return value


def _choice_code(r: NodeReader, node: Node, path: str) -> str | None:
    # Codes are strings ("choice codes are strings"); an unquoted 1 is read as the text "1".
    if isinstance(node, ScalarNode) and node.tag in (
        "tag:yaml.org,2002:str",
        "tag:yaml.org,2002:int",
    ):
        if not node.value.strip():
            r.refuse(node, path, "must not be empty")
            return None
        return node.value
    r.refuse(node, path, "must be a code (a string or a whole number)")
    return None


def _codes(r: NodeReader, node: Node, path: str) -> tuple[tuple[str, Text], ...] | None:
    items = r.sequence(node, path, non_empty=True)
    if items is None:
        return None
    before = r.count()
    codes: list[tuple[str, Text]] = []
    first_line: dict[str, int] = {}
    for index, entry in enumerate(items):
        where = f"{path}[{index}]"
        pair = r.sequence(entry, where)
        if pair is None:
            continue
        if len(pair) != 2:
            r.refuse(entry, where, f"must be [code, label], got {len(pair)} items")
            continue
        code = _choice_code(r, pair[0], f"{where}[0]")
        label = read_text(r, pair[1], f"{where}[1]")
        if code is not None and code in first_line:
            message = f"choice code '{code}' is used twice (first on line {first_line[code]})"
            r.refuse(pair[0], f"{where}[0]", message)
        elif code is not None:
            first_line[code] = pair[0].start_mark.line + 1
            if label is not None:
                codes.append((code, label))
    return tuple(codes) if r.count() == before else None


def _range(r: NodeReader, node: Node, path: str):
    items = r.sequence(node, path)
    if items is None:
        return None
    if len(items) != 2:
        r.refuse(node, path, f"must be [min, max], got {len(items)} items")
        return None
    low, high = r.decimal(items[0], f"{path}[0]"), r.decimal(items[1], f"{path}[1]")
    if low is None or high is None:
        return None
    if low > high:
        r.refuse(node, path, f"min {low} is above max {high}")
        return None
    return (low, high)


def _expression(r: NodeReader, node: Node, path: str) -> str | None:
    text = r.text(node, path)
    if text is None:
        return None
    try:
        parse(text)
    except ExpressionError as exc:
        r.refuse(node, path, f"'{text}' does not parse: {exc}")
        return None
    return text


def _item(r: NodeReader, node: Node, path: str) -> ItemSpec | None:
    before = r.count()
    f = r.mapping(node, path, ITEM_REQUIRED_KEYS, ITEM_OPTIONAL_KEYS)
    if f is None:
        return None
    kind = f.get("type", r.choice, choices=_ITEM_TYPES, what="item type")
    kind = None if kind is None else ItemType(kind)

    def only_for(key: str, types: tuple, what: str) -> None:
        if kind is not None and kind not in types and f.node(key) is not None:
            r.refuse(f.node(key), f.path_of(key), f"'{key}' applies only to {what} items")

    only_for("precision", (ItemType.DECIMAL,), "decimal")
    only_for("max_length", (ItemType.TEXT,), "text")
    only_for("unit", _NUMERIC, "integer and decimal")
    only_for("codes", _CHOICES, "choice and multichoice")
    only_for("range", _NUMERIC, "integer and decimal")
    only_for("soft_range", _NUMERIC, "integer and decimal")
    if kind in _CHOICES and f.node("codes") is None:
        r.refuse(f.mapping_node, f.path, f"a {kind} item needs 'codes: [[code, label], ...]'")
    hard, soft = f.get("range", partial(_range, r)), f.get("soft_range", partial(_range, r))
    if hard is not None and soft is not None and not (hard[0] <= soft[0] and soft[1] <= hard[1]):
        message = (
            f"soft range [{soft[0]}, {soft[1]}] must lie within the range [{hard[0]}, {hard[1]}]"
        )
        r.refuse(f.node("soft_range"), f.path_of("soft_range"), message)
    spec = ItemSpec(
        code=f.get("code", partial(_item_code, r)),
        label=f.get("label", partial(read_text, r)),
        type=kind,
        help=f.get("help", partial(read_text, r)),
        precision=f.get("precision", r.integer, minimum=0),
        max_length=f.get("max_length", r.integer, minimum=1),
        unit=f.get("unit", r.text, ""),
        codes=f.get("codes", partial(_codes, r), ()),
        required=f.get("required", r.boolean, False),
        range=hard,
        soft_range=soft,
        show_if=f.get("show_if", partial(_expression, r)),
        calc=f.get("calc", partial(_expression, r)),
        missing=f.get("missing", r.unique_texts, (), choices=MISSING_CODES, what="missing code"),
    )
    return spec if r.count() == before else None


def _items(r: NodeReader, node: Node, path: str) -> list | None:
    items = r.sequence(node, path, non_empty=True)
    if items is None:
        return None
    return [
        (_item(r, item, f"{path}[{index}]"), item, f"{path}[{index}]")
        for index, item in enumerate(items)
    ]


def _group(r: NodeReader, node: Node, path: str):
    before = r.count()
    f = r.mapping(node, path, ("code", "items"), ("name", "repeating", "key", "max_rows", "checks"))
    if f is None:
        return None
    repeating = f.get("repeating", r.boolean, True)
    if repeating is False:
        for key in ("key", "max_rows", "checks"):
            if f.node(key) is not None:
                r.refuse(f.node(key), f.path_of(key), f"'{key}' applies only to repeating groups")
    entries = f.get("items", partial(_items, r)) or []
    codes = {spec.code for spec, _, _ in entries if spec is not None}
    key = f.get("key", r.unique_texts, (), choices=frozenset(codes), what="key item")
    check_entries = r.entries(f, "checks", _check, non_empty=False) if repeating else []
    group_code = f.get("code", partial(_item_code, r))
    spec = GroupSpec(
        code=group_code,
        items=tuple(spec for spec, _, _ in entries),
        repeating=repeating,
        name=f.get("name", partial(read_text, r)),
        key=key,
        max_rows=f.get("max_rows", r.integer, minimum=1),
        checks=_number_checks(group_code, [spec for spec, _, _ in check_entries]),
    )
    return (spec if r.count() == before else None), entries, check_entries


def _check(r: NodeReader, node: Node, path: str) -> CheckSpec | None:
    before = r.count()
    f = r.mapping(node, path, ("rule", "message"), ("id", "severity"))
    if f is None:
        return None
    spec = CheckSpec(
        id=f.get("id", r.code, ""),
        rule=f.get("rule", partial(_expression, r)),
        message=f.get("message", partial(read_text, r)),
        severity=f.get("severity", r.choice, "error", choices=SEVERITIES, what="severity"),
    )
    return spec if r.count() == before else None


def read_form(r: NodeReader, node: Node, path: str, *, builtin: frozenset[str]):
    """One entry of `forms:`; a FormSpec, or None when anything in it was refused."""
    before = r.count()
    f = r.mapping(node, path, ("code",), ("name", "items", "groups", "checks"))
    if f is None:
        return None
    code = f.get("code", r.code)
    if code is not None and code in builtin:
        r.refuse(f.node("code"), f.path_of("code"), f"'{code}' is a built-in form's code")
    if f.node("items") is None and f.node("groups") is None:
        r.refuse(f.mapping_node, f.path, "a form needs 'items', 'groups' or both")
    groups: list[GroupSpec | None] = []
    item_entries: list = []
    group_entries: list = []
    group_check_entries: list = []
    if f.node("items") is not None:
        direct = f.get("items", partial(_items, r)) or []
        item_entries.extend(direct)
        groups.append(GroupSpec(code=code, items=tuple(spec for spec, _, _ in direct)))
    group_nodes = f.node("groups")
    listed = (
        None
        if group_nodes is None
        else r.sequence(group_nodes, f.path_of("groups"), non_empty=True)
    )
    for index, group_node in enumerate(listed or []):
        where = f"{f.path_of('groups')}[{index}]"
        read = _group(r, group_node, where)
        if read is None:
            groups.append(None)
            continue
        group, entries, row_checks = read
        groups.append(group)
        item_entries.extend(entries)
        group_entries.append((group, group_node, where))
        group_check_entries.append((group, row_checks))
    r.refuse_duplicates(item_entries, "code", "item code")
    if f.node("items") is not None and code is not None:
        for _, group_node, where in group_entries:
            code_node = value_node(group_node, "code")
            if code_node is not None and code_node.value == code:
                message = f"group code '{code}' is the form's own code (its direct items)"
                r.refuse(code_node, join(where, "code"), message)
    r.refuse_duplicates(group_entries, "code", "group code")
    check_entries = r.entries(f, "checks", _check, non_empty=False)
    every_check = check_entries + [e for _, entries in group_check_entries for e in entries]
    r.refuse_duplicates(every_check, "id", "check id")
    checks = _number_checks(code, [spec for spec, _, _ in check_entries])
    if r.count() != before:
        return None
    spec = FormSpec(
        code=code,
        name=f.get("name", partial(read_text, r), Text.of(code)),
        groups=tuple(groups),
        checks=checks,
    )
    _check_expressions(r, spec, item_entries, check_entries, group_check_entries)
    return spec if r.count() == before else None


def _number_checks(code, checks: list) -> tuple[CheckSpec, ...]:
    """Checks without an id get `<FORM>-R<n>` (n = their place), which confirmations name."""
    if None in checks:
        return ()
    taken = {check.id for check in checks}
    numbered = []
    for index, check_ in enumerate(checks, start=1):
        if not check_.id:
            candidate = f"{code}-R{index}"
            while candidate in taken:
                candidate += "x"
            taken.add(candidate)
            check_ = replace(check_, id=candidate)
        numbered.append(check_)
    return tuple(numbered)


def scope(form: FormSpec, group: GroupSpec | None):
    """The item types and choice codes an expression of `group` (None: the form) may use.

    Items of non-repeating groups by their code; columns of repeating groups as GROUP.ITEM;
    inside a repeating group, its own items by their bare code too (the current row).
    """
    types: dict[str, ItemType] = {}
    codes: dict[str, tuple[str, ...]] = {}
    for each in form.groups:
        for item in each.items:
            names = [f"{each.code}.{item.code}"] if each.repeating else [item.code]
            if each.repeating and each is group:
                names.append(item.code)
            for name in names:
                types[name] = item.type
                if item.type in _CHOICES:
                    codes[name] = tuple(code for code, _ in item.codes)
    return types, codes


def _check_expressions(
    r: NodeReader, form: FormSpec, item_entries, check_entries, group_check_entries=()
) -> None:
    nodes = {spec.code: (node, path) for spec, node, path in item_entries}
    calcs = {}
    for group in form.groups:
        types, codes = scope(form, group)
        for item in group.items:
            node, path = nodes[item.code]
            for key, text, options in (
                ("show_if", item.show_if, {"context": "show_if"}),
                ("calc", item.calc, {"context": "calc", "target": item.type}),
            ):
                if text is None:
                    continue
                tree = parse(text)
                try:
                    check(tree, types, codes=codes, **options)
                except ExpressionError as exc:
                    r.refuse(value_node(node, key), join(path, key), f"'{text}': {exc}")
                    continue
                if key == "calc":
                    calcs[item.code] = tree
    try:
        dependency_order(calcs)
    except ExpressionError as exc:
        code = next(code for code in calcs if code in exc.cycle)  # in file order
        node, path = nodes[code]
        r.refuse(value_node(node, "calc"), join(path, "calc"), str(exc))
    scoped = [(None, form.checks, check_entries)]
    for read, entries in group_check_entries:
        group = next((g for g in form.groups if g is not None and g.code == read.code), None)
        scoped.append((group, read.checks, entries))
    for group, checks, entries in scoped:
        types, codes = scope(form, group)
        for check_, (_, node, path) in zip(checks, entries, strict=True):
            try:
                check(parse(check_.rule), types, codes=codes, context="rule")
            except ExpressionError as exc:
                r.refuse(value_node(node, "rule"), join(path, "rule"), f"'{check_.rule}': {exc}")
