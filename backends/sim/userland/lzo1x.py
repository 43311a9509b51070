"""LZO1X in pure Python -- busybox 1.35's copies of LZO 2.03 (the
compressors lzo1x_1 and lzo1x_1_15, which differ only in the size of their
dictionary, and lzo1x_decompress_safe).

The compressor is ported step for step so that its output is busybox's
byte for byte, including one thing that depends on memory: busybox lzop
compresses every block of a file in the same buffer with the same
dictionary, never cleared, so a dictionary entry left by the previous block
points at the same offset of the new block's data and may be taken as a
match candidate there.  ``Compressor`` keeps its dictionary (offsets) from
one block to the next for that reason.
"""

from __future__ import annotations

M2_MAX_LEN = 8
M4_MAX_LEN = 9
M2_MAX_OFFSET = 0x0800
M3_MAX_OFFSET = 0x4000
M4_MAX_OFFSET = 0xBFFF
M3_MARKER = 32
M4_MARKER = 16


class Compressor:
    """lzo1x_1_compress (``d_bits`` 14) or lzo1x_1_15_compress (15), with
    the work memory kept between calls as busybox's lzop keeps it."""

    def __init__(self, d_bits: int) -> None:
        self.d_mask = (1 << d_bits) - 1
        self.d_high = (self.d_mask >> 1) + 1
        self.dict: list[int] = [-1] * (1 << d_bits)  # -1: NULL (never a candidate)

    def compress(self, data: bytes) -> bytes:
        out = bytearray()
        n = len(data)
        if n <= M2_MAX_LEN + 5:
            t = n
        else:
            t = self._do_compress(data, out)
        if t > 0:
            ii = n - t
            if not out and t <= 238:
                out.append(17 + t)
            elif t <= 3:
                out[-2] |= t
            elif t <= 18:
                out.append(t - 3)
            else:
                _long_count(out, t - 18)
            out += data[ii:n]
        out += bytes((M4_MARKER | 1, 0, 0))
        return bytes(out)

    def _candidate(self, dindex: int, ip: int) -> int:
        """LZO_CHECK_MPOS_NON_DET: the offset back to the dictionary's
        position, or 0 when it is no candidate (NULL, not behind ip, too far)."""
        m_pos = self.dict[dindex]
        if m_pos < 0 or m_pos >= ip:
            return 0
        m_off = ip - m_pos
        return 0 if m_off > M4_MAX_OFFSET else m_off

    def _do_compress(self, buf: bytes, out: bytearray) -> int:
        in_len = len(buf)
        ip_end = in_len - M2_MAX_LEN - 5
        dic = self.dict
        d_mask = self.d_mask
        ii = 0
        ip = 4
        while True:
            dv = (((((buf[ip + 3] << 6) ^ buf[ip + 2]) << 5) ^ buf[ip + 1]) << 5) ^ buf[ip]
            dindex = (((0x21 * dv) & 0xFFFFFFFF) >> 5) & d_mask
            is_match = False
            m_off = self._candidate(dindex, ip)
            if m_off:
                m_pos = ip - m_off
                if not (m_off <= M2_MAX_OFFSET or buf[m_pos + 3] == buf[ip + 3]):
                    dindex = (dindex & (d_mask & 0x7FF)) ^ (self.d_high | 0x1F)
                    m_off = self._candidate(dindex, ip)
                    if m_off:
                        m_pos = ip - m_off
                        if not (m_off <= M2_MAX_OFFSET or buf[m_pos + 3] == buf[ip + 3]):
                            m_off = 0
                if m_off:  # try_match
                    m_pos = ip - m_off
                    is_match = (
                        buf[m_pos] == buf[ip]
                        and buf[m_pos + 1] == buf[ip + 1]
                        and buf[m_pos + 2] == buf[ip + 2]
                    )
            if not is_match:
                dic[dindex] = ip
                ip += 1
                if ip >= ip_end:
                    break
                continue
            dic[dindex] = ip
            t = ip - ii
            if t > 0:  # the pending literal run
                if t <= 3:
                    out[-2] |= t
                elif t <= 18:
                    out.append(t - 3)
                else:
                    _long_count(out, t - 18)
                out += buf[ii:ip]
                ii = ip
            k = 3
            while k <= 8 and buf[m_pos + k] == buf[ip + k]:
                k += 1
            if k <= 8:
                ip += k
                m_len = k
                if m_off <= M2_MAX_OFFSET:
                    m_off -= 1
                    out.append((((m_len - 1) << 5) | ((m_off & 7) << 2)) & 0xFF)
                    out.append((m_off >> 3) & 0xFF)
                else:
                    if m_off <= M3_MAX_OFFSET:
                        m_off -= 1
                        out.append(M3_MARKER | (m_len - 2))
                    else:
                        m_off -= 0x4000
                        out.append((M4_MARKER | ((m_off & 0x4000) >> 11) | (m_len - 2)) & 0xFF)
                    out.append(((m_off & 63) << 2) & 0xFF)
                    out.append((m_off >> 6) & 0xFF)
            else:
                ip += 9
                m = m_pos + M2_MAX_LEN + 1
                while ip < in_len and buf[m] == buf[ip]:
                    m += 1
                    ip += 1
                m_len = ip - ii
                if m_off <= M3_MAX_OFFSET:
                    m_off -= 1
                    if m_len <= 33:
                        out.append(M3_MARKER | (m_len - 2))
                    else:
                        out.append(M3_MARKER)
                        _match_count(out, m_len - 33)
                else:
                    m_off -= 0x4000
                    high = (m_off & 0x4000) >> 11
                    if m_len <= M4_MAX_LEN:
                        out.append((M4_MARKER | high | (m_len - 2)) & 0xFF)
                    else:
                        out.append(M4_MARKER | high)
                        _match_count(out, m_len - M4_MAX_LEN)
                out.append(((m_off & 63) << 2) & 0xFF)
                out.append((m_off >> 6) & 0xFF)
            ii = ip
            if ip >= ip_end:
                break
        return in_len - ii


def _match_count(out: bytearray, m_len: int) -> None:
    """m3_m4_len: a match length past what the opcode holds (its zero
    length field says so): zero bytes of 255 each, then the rest."""
    while m_len > 255:
        m_len -= 255
        out.append(0)
    out.append(m_len)


def _long_count(out: bytearray, tt: int) -> None:
    """A literal run past 18: a zero, zero bytes of 255 each, then the rest."""
    out.append(0)
    while tt > 255:
        tt -= 255
        out.append(0)
    out.append(tt)


class Corrupt(Exception):
    """lzo1x_decompress_safe returned an error (input/output/lookbehind
    overrun, no end marker, input left over)."""


def decompress(src: bytes, out_len: int) -> bytes:
    """lzo1x_decompress_safe into a buffer of ``out_len`` bytes."""
    out = bytearray()
    n = len(src)
    ip = 0

    def need_ip(x: int) -> None:
        if n - ip < x:
            raise Corrupt()

    def need_op(x: int) -> None:
        if out_len - len(out) < x:
            raise Corrupt()

    def byte() -> int:
        nonlocal ip
        if ip >= n:
            raise Corrupt()
        ip += 1
        return src[ip - 1]

    def copy_back(m_pos: int, count: int) -> None:
        if m_pos < 0 or m_pos >= len(out):
            raise Corrupt()
        need_op(count)
        for k in range(count):
            out.append(out[m_pos + k])

    def long_count(t: int, base: int) -> int:
        nonlocal ip
        need_ip(1)
        while src[ip] == 0:
            t += 255
            ip += 1
            need_ip(1)
        return t + base + byte()

    def literals(count: int) -> None:
        nonlocal ip
        out.extend(src[ip : ip + count])
        ip += count

    state = "loop"
    t = 0
    if n and src[0] > 17:
        t = byte() - 17
        if t < 4:
            state = "match_next"
        else:
            need_op(t)
            need_ip(t + 1)
            literals(t)
            state = "first_literal_run"
    while True:
        if state == "loop":
            if not (ip < n and len(out) <= out_len):
                raise Corrupt()  # no end marker
            t = byte()
            if t >= 16:
                state = "match"
                continue
            if t == 0:
                t = long_count(t, 15)
            need_op(t + 3)
            need_ip(t + 4)
            literals(t + 3)
            state = "first_literal_run"
        elif state == "first_literal_run":
            t = byte()
            if t >= 16:
                state = "match"
                continue
            m_pos = len(out) - (1 + M2_MAX_OFFSET) - (t >> 2) - (byte() << 2)
            copy_back(m_pos, 3)
            state = "match_done"
        elif state == "match":
            if t >= 64:
                m_pos = len(out) - 1 - ((t >> 2) & 7) - (byte() << 3)
                t = (t >> 5) - 1
            elif t >= 32:
                t &= 31
                if t == 0:
                    t = long_count(t, 31)
                need_ip(2)
                m_pos = len(out) - 1 - (src[ip] >> 2) - (src[ip + 1] << 6)
                ip += 2
            elif t >= 16:
                m_pos = len(out) - ((t & 8) << 11)
                t &= 7
                if t == 0:
                    t = long_count(t, 7)
                need_ip(2)
                m_pos -= (src[ip] >> 2) + (src[ip + 1] << 6)
                ip += 2
                if m_pos == len(out):  # the end marker
                    if ip != n:
                        raise Corrupt()
                    return bytes(out)
                m_pos -= 0x4000
            else:
                m_pos = len(out) - 1 - (t >> 2) - (byte() << 2)
                copy_back(m_pos, 2)
                state = "match_done"
                continue
            copy_back(m_pos, t + 2)
            state = "match_done"
        elif state == "match_done":
            t = src[ip - 2] & 3
            state = "loop" if t == 0 else "match_next"
        else:  # match_next
            need_op(t)
            need_ip(t + 1)
            literals(t)
            t = byte()
            if not (ip < n and len(out) <= out_len):
                raise Corrupt()
            state = "match"
