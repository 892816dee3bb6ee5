"""The string hashes Keras's Hashing and lookup layers use: FarmHash's 64-bit fingerprint
(``tf.strings.to_hash_bucket_fast``) and keyed SipHash-2-4 (``to_hash_bucket_strong``).

Both are written on Python integers kept to 64 bits with ``& MASK``; strings are hashed as their
UTF-8 bytes, so a bucket is ``hash(bytes) mod num_buckets``, the same on every platform and in
every run (unlike Python's ``hash``).
"""

import struct

import numpy as np

MASK = (1 << 64) - 1
_K0 = 0xC3A5C85C97CB3127
_K1 = 0xB492B66FBE98F273
_K2 = 0x9AE16A3B2F90404F


def _fetch64(data, i):
    return struct.unpack_from("<Q", data, i)[0]


def _fetch32(data, i):
    return struct.unpack_from("<I", data, i)[0]


def _rotate(value, shift):
    return value if shift == 0 else ((value >> shift) | (value << (64 - shift))) & MASK


def _shift_mix(value):
    return value ^ (value >> 47)


def _hash_len16(u, v, mul):
    a = ((u ^ v) * mul) & MASK
    a ^= a >> 47
    b = ((v ^ a) * mul) & MASK
    b ^= b >> 47
    return (b * mul) & MASK


def _hash_len0to16(data):
    n = len(data)
    if n >= 8:
        mul = _K2 + n * 2
        a = (_fetch64(data, 0) + _K2) & MASK
        b = _fetch64(data, n - 8)
        c = (_rotate(b, 37) * mul + a) & MASK
        d = ((_rotate(a, 25) + b) * mul) & MASK
        return _hash_len16(c, d, mul)
    if n >= 4:
        mul = _K2 + n * 2
        return _hash_len16(n + (_fetch32(data, 0) << 3), _fetch32(data, n - 4), mul)
    if n > 0:
        y = (data[0] + (data[n >> 1] << 8)) & 0xFFFFFFFF
        z = (n + (data[n - 1] << 2)) & 0xFFFFFFFF
        return (_shift_mix((y * _K2 ^ z * _K0) & MASK) * _K2) & MASK
    return _K2


def _hash_len17to32(data):
    n = len(data)
    mul = _K2 + n * 2
    a = (_fetch64(data, 0) * _K1) & MASK
    b = _fetch64(data, 8)
    c = (_fetch64(data, n - 8) * mul) & MASK
    d = (_fetch64(data, n - 16) * _K2) & MASK
    return _hash_len16(
        (_rotate((a + b) & MASK, 43) + _rotate(c, 30) + d) & MASK,
        (a + _rotate((b + _K2) & MASK, 18) + c) & MASK,
        mul,
    )


def _hash_len33to64(data):
    n = len(data)
    mul = _K2 + n * 2
    a = (_fetch64(data, 0) * _K2) & MASK
    b = _fetch64(data, 8)
    c = (_fetch64(data, n - 8) * mul) & MASK
    d = (_fetch64(data, n - 16) * _K2) & MASK
    y = (_rotate((a + b) & MASK, 43) + _rotate(c, 30) + d) & MASK
    z = _hash_len16(y, (a + _rotate((b + _K2) & MASK, 18) + c) & MASK, mul)
    e = (_fetch64(data, 16) * mul) & MASK
    f = _fetch64(data, 24)
    g = ((y + _fetch64(data, n - 32)) * mul) & MASK
    h = ((z + _fetch64(data, n - 24)) * mul) & MASK
    return _hash_len16(
        (_rotate((e + f) & MASK, 43) + _rotate(g, 30) + h) & MASK,
        (e + _rotate((f + a) & MASK, 18) + g) & MASK,
        mul,
    )


def _weak_hash_len32_with_seeds(data, i, a, b):
    w, x, y, z = struct.unpack_from("<4Q", data, i)
    a = (a + w) & MASK
    b = _rotate((b + a + z) & MASK, 21)
    c = a
    a = (a + x + y) & MASK
    b = (b + _rotate(a, 44)) & MASK
    return (a + z) & MASK, (b + c) & MASK


def fingerprint64(data):
    """FarmHash's ``Fingerprint64`` of a byte string: a fixed 64-bit hash (an int in [0, 2**64)).

    The algorithm of ``farmhashna::Hash64``: strings up to 64 bytes are mixed by length class;
    longer ones are consumed 64 bytes at a time into a 56-byte state, the last 64 bytes once more,
    and the state folded by the 128-to-64-bit mix ``_hash_len16``.

    Args:
        data: bytes (or a str, hashed as UTF-8).
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    n = len(data)
    if n <= 16:
        return _hash_len0to16(data)
    if n <= 32:
        return _hash_len17to32(data)
    if n <= 64:
        return _hash_len33to64(data)
    seed = 81
    x = seed
    y = (seed * _K1 + 113) & MASK
    z = (_shift_mix((y * _K2 + 113) & MASK) * _K2) & MASK
    v = (0, 0)
    w = (0, 0)
    x = (x * _K2 + _fetch64(data, 0)) & MASK
    end = ((n - 1) // 64) * 64
    last64 = end + ((n - 1) & 63) - 63
    for s in range(0, end, 64):
        x = (_rotate((x + y + v[0] + _fetch64(data, s + 8)) & MASK, 37) * _K1) & MASK
        y = (_rotate((y + v[1] + _fetch64(data, s + 48)) & MASK, 42) * _K1) & MASK
        x ^= w[1]
        y = (y + v[0] + _fetch64(data, s + 40)) & MASK
        z = (_rotate((z + w[0]) & MASK, 33) * _K1) & MASK
        v = _weak_hash_len32_with_seeds(data, s, (v[1] * _K1) & MASK, (x + w[0]) & MASK)
        w = _weak_hash_len32_with_seeds(
            data, s + 32, (z + w[1]) & MASK, (y + _fetch64(data, s + 16)) & MASK
        )
        z, x = x, z
    mul = _K1 + ((z & 0xFF) << 1)
    s = last64
    w0 = (w[0] + ((n - 1) & 63)) & MASK
    v0 = (v[0] + w0) & MASK
    w0 = (w0 + v0) & MASK
    v = (v0, v[1])
    w = (w0, w[1])
    x = (_rotate((x + y + v[0] + _fetch64(data, s + 8)) & MASK, 37) * mul) & MASK
    y = (_rotate((y + v[1] + _fetch64(data, s + 48)) & MASK, 42) * mul) & MASK
    x ^= (w[1] * 9) & MASK
    y = (y + v[0] * 9 + _fetch64(data, s + 40)) & MASK
    z = (_rotate((z + w[0]) & MASK, 33) * mul) & MASK
    v = _weak_hash_len32_with_seeds(data, s, (v[1] * mul) & MASK, (x + w[0]) & MASK)
    w = _weak_hash_len32_with_seeds(
        data, s + 32, (z + w[1]) & MASK, (y + _fetch64(data, s + 16)) & MASK
    )
    z, x = x, z
    return _hash_len16(
        (_hash_len16(v[0], w[0], mul) + _shift_mix(y) * _K0 + z) & MASK,
        (_hash_len16(v[1], w[1], mul) + x) & MASK,
        mul,
    )


def _sip_round(v0, v1, v2, v3):
    v0 = (v0 + v1) & MASK
    v1 = _rotate(v1, 64 - 13) ^ v0
    v0 = _rotate(v0, 64 - 32)
    v2 = (v2 + v3) & MASK
    v3 = _rotate(v3, 64 - 16) ^ v2
    v0 = (v0 + v3) & MASK
    v3 = _rotate(v3, 64 - 21) ^ v0
    v2 = (v2 + v1) & MASK
    v1 = _rotate(v1, 64 - 17) ^ v2
    v2 = _rotate(v2, 64 - 32)
    return v0, v1, v2, v3


def siphash64(key, data):
    """SipHash-2-4 of a byte string under a 128-bit key given as two 64-bit ints ``(k0, k1)``.

    Each 8-byte little-endian word m is absorbed as ``v3 ^= m; 2 rounds; v0 ^= m``; the last
    word carries the length in its top byte; then ``v2 ^= 0xff``, 4 rounds, and the hash is
    ``v0 ^ v1 ^ v2 ^ v3``.

    Args:
        key: two non-negative integers below 2**64.
        data: bytes (or a str, hashed as UTF-8).
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    k0, k1 = (int(k) & MASK for k in key)
    v0 = k0 ^ 0x736F6D6570736575
    v1 = k1 ^ 0x646F72616E646F6D
    v2 = k0 ^ 0x6C7967656E657261
    v3 = k1 ^ 0x7465646279746573
    n = len(data)
    full = n - n % 8
    tail = data[full:] + bytes(7 - n % 8) + bytes([n & 0xFF])
    for i in range(0, full + 8, 8):
        m = _fetch64(data, i) if i < full else _fetch64(tail, 0)
        v3 ^= m
        v0, v1, v2, v3 = _sip_round(*_sip_round(v0, v1, v2, v3))
        v0 ^= m
    v2 ^= 0xFF
    for _ in range(4):
        v0, v1, v2, v3 = _sip_round(v0, v1, v2, v3)
    return v0 ^ v1 ^ v2 ^ v3


def hash_buckets(values, num_buckets, key=None):
    """Bucket of every string of an array: ``fingerprint64(s) mod num_buckets``, or with a
    ``key`` (two ints) ``siphash64(key, s) mod num_buckets``.

    Args:
        values: an array-like of str or bytes, any shape.
        num_buckets: a positive integer.
        key: None, or the SipHash key ``(k0, k1)``.

    Returns:
        An int64 ndarray of the shape of ``values``, entries in [0, num_buckets).
    """
    values = np.asarray(values, dtype=object)
    if key is None:
        codes = [fingerprint64(_as_bytes(v)) % num_buckets for v in values.ravel()]
    else:
        codes = [siphash64(key, _as_bytes(v)) % num_buckets for v in values.ravel()]
    return np.array(codes, dtype=np.int64).reshape(values.shape)


def _as_bytes(value):
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")
