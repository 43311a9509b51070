"""dpkg's in-memory database -- after busybox 1.35's archival/dpkg.c.

busybox keeps three open-addressed hash tables: names (strings), packages
(name + version + dependency edges) and statuses (package + "want flag
status").  Their probe order is part of what the user sees: ``dpkg -l``
lists the status table slot by slot, and the dependency check walks the
package table slot by slot (which failing dependency is named first).  So
the tables are ported with busybox's own hash; names are Python strings
(busybox compares interned indexes, which is string equality).

Also here: the control-file field reader (``read_package_field``, with its
quirks), Debian version comparison and the dependency/conflict check.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .libc import Die

PACKAGE_HASH_PRIME = 10007
STATUS_HASH_PRIME = 8191

# edge types (even numbers are "or" groups); operators
PRE_DEPENDS, OR_PRE_DEPENDS, DEPENDS, OR_DEPENDS = 1, 2, 3, 4
REPLACES, PROVIDES, CONFLICTS, SUGGESTS, RECOMMENDS, ENHANCES = 5, 7, 9, 11, 13, 15
VER_EQUAL, VER_LESS, VER_LESS_EQUAL, VER_MORE, VER_MORE_EQUAL, VER_ANY = 1, 2, 3, 4, 5, 6
OPERATORS = [
    ("=", VER_EQUAL),
    ("<<", VER_LESS),
    ("<=", VER_LESS_EQUAL),
    (">>", VER_MORE),
    (">=", VER_MORE_EQUAL),
]
EDGE_FIELDS = {
    "Pre-Depends": PRE_DEPENDS,
    "Depends": DEPENDS,
    "Replaces": REPLACES,
    "Provides": PROVIDES,
    "Conflicts": CONFLICTS,
    "Suggests": SUGGESTS,
    "Recommends": RECOMMENDS,
    "Enhances": ENHANCES,
}


def _schar(b: int) -> int:
    return b - 256 if b > 127 else b


def make_hash(key: str, prime: int) -> tuple[int, int]:
    """busybox's own hash: (first probe, decrement).  ``hash_num`` is an
    unsigned long; each term is an int shifted left, wrapping at 32 bits."""
    raw = key.encode("utf-8", "surrogateescape") or b"\0"
    h = _schar(raw[0]) % 2**64
    for i in range(1, len(raw)):
        c, p = _schar(raw[i]), _schar(raw[i - 1])
        term = ((c + p) << ((c * i) % 24)) & 0xFFFFFFFF
        term = term - 2**32 if term >= 2**31 else term
        h = (h + term) % 2**64
    return (h & 0xFFFFFFFF) % prime, 1 + (h % (prime - 1))


def _probe(key: str, prime: int):
    addr, dec = make_hash(key, prime)
    while True:
        yield addr
        addr -= dec
        if addr < 0:
            addr += prime


@dataclass
class Edge:
    type: int
    name: str
    version: str  # for an "or" edge: the number of alternatives, as a str of int
    operator: int = 0
    count: int = 0  # alternatives following an "or" edge


@dataclass
class Package:
    name: str
    version: str
    edges: list[Edge] = field(default_factory=list)


@dataclass
class StatusNode:
    package: int  # slot in the package table
    status: str | None


# -- control files -----------------------------------------------------------


def read_package_field(buf: str, start: int) -> tuple[int, str | None, str | None]:
    """One "Name: value" field of ``buf`` from ``start``: (how far to
    advance, name, value).  A line starting with a space continues the
    value; a field without a name ends the reading (name None)."""
    text = buf[start:]
    n = len(text)

    def at(i: int) -> str:
        return text[i] if i < n else "\0"

    name_start = name_end = value_start = 0
    offset = 0
    name_len = value_len = 0
    while True:
        nxt = offset + 1
        c = at(offset)
        stop = False
        blank = c in " \t"
        if c == "\0":
            stop = True
        elif c == ":":
            if name_end == 0:
                name_end, value_start = offset, nxt
        elif c == "\n":
            if at(nxt) != " ":
                stop = True
            else:
                blank = True
        if blank:
            if name_start == offset:
                name_start += 1
            if value_start == offset:
                value_start += 1
        if stop:
            name_len = name_end - name_start
            value_len = offset - value_start
            if name_len == 0 or (name_len > 0 and value_len > 0):
                break
            if offset >= n:  # busybox reads on past the end of the string
                return n + 1, None, None
            name_start = value_start = offset + 1
            name_end = 0
            offset += 1
        offset += 1
    name = text[name_start : name_start + name_len] if name_len > 0 else None
    value = text[value_start : value_start + value_len] if value_len > 0 else None
    return nxt, name, value


def split_records(data: str) -> list[str]:
    """xmalloc_fgetline_str(file, "\\n\\n") until EOF."""
    records = []
    while data:
        k = data.find("\n\n")
        if k < 0:
            records.append(data)
            break
        records.append(data[:k])
        data = data[k + 2 :]
    return records


# -- versions ----------------------------------------------------------------


def _order(c: str) -> int:
    if c == "~":
        return -1
    if c == "" or c.isdigit():
        return 0
    if c.isascii() and c.isalpha():
        return ord(c)
    return ord(c) + 256


def _is_digit(c: str) -> bool:
    return c != "" and "0" <= c <= "9"


def version_compare_part(val: str | None, ref: str | None) -> int:
    val, ref = val or "", ref or ""
    i = j = 0

    def ch(s: str, k: int) -> str:
        return s[k] if k < len(s) else ""

    while ch(val, i) or ch(ref, j):
        while (ch(val, i) and not _is_digit(ch(val, i))) or (ch(ref, j) and not _is_digit(ch(ref, j))):
            vc, rc = _order(ch(val, i)), _order(ch(ref, j))
            if vc != rc:
                return vc - rc
            i, j = i + 1, j + 1
        while ch(val, i) == "0":
            i += 1
        while ch(ref, j) == "0":
            j += 1
        first_diff = 0
        while _is_digit(ch(val, i)) and _is_digit(ch(ref, j)):
            if first_diff == 0:
                first_diff = ord(val[i]) - ord(ref[j])
            i, j = i + 1, j + 1
        if _is_digit(ch(val, i)):
            return 1
        if _is_digit(ch(ref, j)):
            return -1
        if first_diff:
            return first_diff
    return 0


def _atoi(text: str) -> int:
    k = 0
    while k < len(text) and text[k] in " \t\n":
        k += 1
    sign = 1
    if k < len(text) and text[k] in "+-":
        sign = -1 if text[k] == "-" else 1
        k += 1
    digits = ""
    while k < len(text) and _is_digit(text[k]):
        digits += text[k]
        k += 1
    return (sign * int(digits or "0")) % 2**32


def version_compare(v1: str, v2: str) -> int:
    e1 = e2 = 0
    if ":" in v1:
        e1, v1 = _atoi(v1), v1[v1.index(":") + 1 :]
    if ":" in v2:
        e2, v2 = _atoi(v2), v2[v2.index(":") + 1 :]
    if e1 != e2:
        return -1 if e1 < e2 else 1
    u1, _, d1 = v1.rpartition("-") if "-" in v1 else (v1, "", None)
    u2, _, d2 = v2.rpartition("-") if "-" in v2 else (v2, "", None)
    result = version_compare_part(u1, u2)
    if result == 0:
        result = version_compare_part(d1, d2)
    return result


def test_version(v1: str, v2: str, operator: int) -> bool:
    r = version_compare(v1, v2)
    return {
        VER_ANY: True,
        VER_EQUAL: r == 0,
        VER_LESS: r < 0,
        VER_LESS_EQUAL: r <= 0,
        VER_MORE: r > 0,
        VER_MORE_EQUAL: r >= 0,
    }.get(operator, False)


# -- the tables --------------------------------------------------------------


class Database:
    def __init__(self) -> None:
        self.packages: dict[int, Package] = {}
        self.statuses: dict[int, StatusNode] = {}

    # package table
    def search_package(self, name: str, version: str, operator: int) -> int:
        for addr in _probe(name, PACKAGE_HASH_PRIME):
            node = self.packages.get(addr)
            if node is None:
                return addr
            if node.name == name and (operator == VER_ANY or test_version(node.version, version, operator)):
                return addr
        raise AssertionError("unreachable")  # pragma: no cover

    def search_status(self, name: str) -> int:
        for addr in _probe(name, STATUS_HASH_PRIME):
            node = self.statuses.get(addr)
            if node is None or self.packages[node.package].name == name:
                return addr
        raise AssertionError("unreachable")  # pragma: no cover

    def search_for_provides(self, needle: str, start_at: int) -> int:
        for i in sorted(k for k in self.packages if k > start_at):
            if any(e.type == PROVIDES and e.name == needle for e in self.packages[i].edges):
                return i
        return -1

    def fill_package(self, control: str) -> int:
        """fill_package_struct: the package of a control paragraph, put in
        the table (replacing one of the same name and version); -1 without
        a Version."""
        node = Package("", "unknown")
        start = 0
        while start < len(control):
            step, name, value = read_package_field(control, start)
            start += step
            if name is None:
                continue
            if name == "Package":
                node.name = value or ""
            elif name == "Version":
                node.version = value or ""
            elif name in EDGE_FIELDS:
                self._add_split_dependencies(node, value or "", EDGE_FIELDS[name])
        if node.version == "unknown":
            return -1
        num = self.search_package(node.name, node.version, VER_EQUAL)
        self.packages[num] = node
        return num

    def _add_split_dependencies(self, node: Package, line: str, edge_type: int) -> None:
        for field_text in [f for f in line.split(",") if f]:
            field_text = field_text.lstrip(" ")
            alternatives = [a for a in field_text.split("|") if a]
            or_edge = None
            if edge_type in (DEPENDS, PRE_DEPENDS) and alternatives and field_text != alternatives[0]:
                or_edge = Edge(edge_type + 1, field_text, "")
                node.edges.append(or_edge)
            for alt in alternatives:
                alt = alt.lstrip(" ")
                paren = alt.find("(")
                edge = Edge(edge_type, "", "ANY", VER_ANY)
                if paren >= 0:
                    version = alt[paren:].lstrip(" (")
                    ops = len(version) - len(version.lstrip("<=>"))
                    if ops:
                        op = version[:ops]
                        # strncmp(version, "<<", n): a lone "<" is "<<", "==" matches nothing
                        for text, operator in OPERATORS:
                            if text[:ops] == op and ops <= len(text):
                                edge.operator = operator
                                break
                        else:
                            raise Die("illegal operator")
                    else:
                        edge.operator = 0  # xmalloc'd: busybox leaves it unset
                    version = version[ops:].lstrip(" ")
                    cut = min([k for k in (version.find(" "), version.find(")")) if k >= 0] or [len(version)])
                    edge.version = version[:cut]
                cut = min([k for k in (alt.find(" "), alt.find("(")) if k >= 0] or [len(alt)])
                edge.name = alt[:cut]
                if or_edge is not None:
                    or_edge.count += 1
                node.edges.append(edge)

    # statuses
    def status_word(self, num: int, which: int) -> str:
        """get_status: word 1 (want), 2 (flag) or 3 (state) of the status."""
        node = self.statuses.get(num)
        text = node.status if node is not None and node.status is not None else ""
        for _ in range(which - 1):
            cut = text.find(" ")
            text = (text[cut:] if cut >= 0 else "").lstrip(" ")
        for k, c in enumerate(text):
            if c in " \n":
                return text[:k]
        return text

    def set_status(self, num: int, value: str, position: int) -> None:
        words = [self.status_word(num, i) for i in (1, 2, 3)]
        words[position - 1] = value
        self.statuses[num].status = " ".join(words)

    def describe_status(self, num: int) -> str:
        node = self.statuses.get(num)
        if node is None or not node.status:
            return "is not installed or flagged to be installed"
        want, state = self.status_word(num, 1), self.status_word(num, 3)
        if state == "installed":
            if want == "install":
                return "is installed"
            if want == "deinstall":
                return "is marked to be removed"
            if want == "purge":
                return "is marked to be purged"
        if want == "unknown":
            return "is in an indeterminate state"
        if want == "install":
            return "is marked to be installed"
        return "is not installed or flagged to be installed"

    def index_status_file(self, text: str) -> None:
        for record in split_records(text):
            num = self.fill_package(record)
            if num == -1:
                continue
            status = None
            k = record.find("Status:")
            if k >= 0:
                rest = record[k + 7 :].lstrip(" \n\t")
                status = rest.split("\n", 1)[0]
            node = StatusNode(num, status)
            self.statuses[self.search_status(self.packages[num].name)] = node

    # dependencies
    def _satisfies(self, package: int, depend_type: int) -> bool:
        num = self.search_status(self.packages[package].name)
        if num not in self.statuses:
            return False
        if depend_type == PRE_DEPENDS:
            return self.status_word(num, 3) == "installed"
        if depend_type == DEPENDS:
            return self.status_word(num, 1) == "install"
        return False

    def check_deps(self, debs: list[int]) -> None:
        """check_deps: raises Die for a conflict or an unmet dependency."""
        for package_num in debs:
            for edge in self.packages[package_num].edges:
                if edge.type == PROVIDES:
                    slot = self.search_package(edge.name, edge.version, edge.operator)
                    if slot not in self.packages:
                        self.packages[slot] = Package(edge.name, edge.version)
        for package_num in debs:
            node = self.packages[package_num]
            if self.status_word(self.search_status(node.name), 3) == "installed":
                continue
            for edge in node.edges:
                if edge.type != CONFLICTS:
                    continue
                slot = self.search_package(edge.name, edge.version, edge.operator)
                result = False
                if slot in self.packages:
                    snum = self.search_status(self.packages[slot].name)
                    if self.status_word(snum, 1) == "install":
                        result = test_version(node.version, edge.version, edge.operator)
                if result:
                    raise Die(f"package {node.name} conflicts with {edge.name}")
        for i in sorted(self.packages):
            node = self.packages[i]
            status_num = self.search_status(node.name)
            if status_num not in self.statuses or self.status_word(status_num, 1) != "install":
                continue
            alternatives = 0
            root: Edge | None = None
            j = 0
            while j < len(node.edges):
                edge = node.edges[j]
                j += 1
                if edge.type in (OR_PRE_DEPENDS, OR_DEPENDS):
                    alternatives, root = edge.count, edge
                    continue
                if alternatives == 0:
                    alternatives, root = 1, None
                slot = self.search_package(edge.name, edge.version, edge.operator)
                if edge.type not in (PRE_DEPENDS, DEPENDS):
                    continue
                unmet = True
                status_num = 0
                if root is not None and edge.type != root.type - 1:
                    raise Die(f"fatal error, package dependencies corrupt: {edge.type} != {root.type} - 1")
                if slot in self.packages:
                    unmet = not self._satisfies(slot, edge.type)
                if unmet:
                    provider = -1
                    while True:
                        provider = self.search_for_provides(edge.name, provider)
                        if provider < 0:
                            break
                        unmet = not self._satisfies(provider, edge.type)
                        if not unmet:
                            break
                alternatives -= 1
                if unmet and alternatives == 0:
                    pre = "pre-" if edge.type == PRE_DEPENDS else ""
                    if root is not None:
                        what = f"{root.name}, which cannot be satisfied"
                    else:
                        what = f"{edge.name}, which {self.describe_status(status_num)}"
                    raise Die(f"package {node.name} {pre}depends on {what}")
                if not unmet and alternatives:
                    j += alternatives
                    alternatives = 0
