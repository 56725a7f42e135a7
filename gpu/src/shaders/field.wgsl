// The Goldilocks field, p = 2^64 - 2^32 + 1, on 32-bit limbs (WGSL has no 64-bit integers):
// a 64-bit value is vec2<u32>(low, high), as it lies in memory in little-endian order. Every
// function takes and returns canonical elements (< p), so results compare bit for bit with the
// CPU's `to_canonical_u64`.

// 2^64 mod p = 2^32 - 1.
const EPSILON: u32 = 0xffffffffu;

// The full 64-bit product of two 32-bit words.
fn mul32(a: u32, b: u32) -> vec2<u32> {
    let a0 = a & 0xffffu;
    let a1 = a >> 16u;
    let b0 = b & 0xffffu;
    let b1 = b >> 16u;
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    let mid = p01 + p10;
    let mid_carry = select(0u, 0x10000u, mid < p01);
    let lo = p00 + (mid << 16u);
    let lo_carry = select(0u, 1u, lo < p00);
    return vec2<u32>(lo, p11 + (mid >> 16u) + mid_carry + lo_carry);
}

// x + 2^32 - 1 mod 2^64: adds 2^64 mod p, or subtracts p, from a 64-bit value.
fn add_epsilon(x: vec2<u32>) -> vec2<u32> {
    let lo = x.x + EPSILON;
    return vec2<u32>(lo, x.y + select(0u, 1u, lo < x.x));
}

// x - (2^32 - 1) mod 2^64.
fn sub_epsilon(x: vec2<u32>) -> vec2<u32> {
    return vec2<u32>(x.x - EPSILON, x.y - select(0u, 1u, x.x < EPSILON));
}

// x mod p for any 64-bit x (< 2^64 < 2p, so one subtraction of p at most).
fn canonical(x: vec2<u32>) -> vec2<u32> {
    if x.y == 0xffffffffu && x.x != 0u {
        return add_epsilon(x);
    }
    return x;
}

// 64-bit a + b, with 2^64 folded back in as 2^32 - 1 (no overflow when b < p).
fn add_fold(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
    let lo = a.x + b.x;
    let hi0 = a.y + b.y;
    let hi = hi0 + select(0u, 1u, lo < a.x);
    let r = vec2<u32>(lo, hi);
    if hi0 < a.y || hi < hi0 {
        return add_epsilon(r);
    }
    return r;
}

fn gl_add(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
    return canonical(add_fold(a, b));
}

fn gl_sub(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
    let lo = a.x - b.x;
    let borrow_lo = select(0u, 1u, a.x < b.x);
    let hi = a.y - b.y - borrow_lo;
    let r = vec2<u32>(lo, hi);
    // A borrow out of 64 bits means a - b + 2^64 was computed; take 2^64 - p = 2^32 - 1 back off.
    if a.y < b.y || (a.y == b.y && borrow_lo == 1u) {
        return sub_epsilon(r);
    }
    return r;
}

// hi * (2^32 - 1) for a 32-bit hi, which is hi * 2^64 mod p.
fn times_epsilon(hi: u32) -> vec2<u32> {
    return vec2<u32>(0u - hi, hi - select(0u, 1u, hi != 0u));
}

// (lo + hi * 2^64) mod p for a 96-bit value.
fn reduce96(lo: vec2<u32>, hi: u32) -> vec2<u32> {
    return canonical(add_fold(lo, times_epsilon(hi)));
}

// (lo + (hi_lo + hi_hi * 2^32) * 2^64) mod p for a 128-bit value, as plonky2's reduce128:
// 2^96 = -1 and 2^64 = 2^32 - 1 mod p.
fn reduce128(lo: vec2<u32>, hi_lo: u32, hi_hi: u32) -> vec2<u32> {
    var t0 = vec2<u32>(lo.x - hi_hi, lo.y - select(0u, 1u, lo.x < hi_hi));
    if lo.y == 0u && lo.x < hi_hi {
        t0 = sub_epsilon(t0);
    }
    return canonical(add_fold(t0, times_epsilon(hi_lo)));
}

fn gl_mul(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
    let ll = mul32(a.x, b.x);
    let lh = mul32(a.x, b.y);
    let hl = mul32(a.y, b.x);
    let hh = mul32(a.y, b.y);
    let r1a = ll.y + lh.x;
    let r1 = r1a + hl.x;
    let c1 = select(0u, 1u, r1a < ll.y) + select(0u, 1u, r1 < r1a);
    let r2a = lh.y + hl.y;
    let r2b = r2a + hh.x;
    let r2 = r2b + c1;
    let c2 = select(0u, 1u, r2a < lh.y) + select(0u, 1u, r2b < r2a) + select(0u, 1u, r2 < r2b);
    return reduce128(vec2<u32>(ll.x, r1), r2, hh.y + c2);
}
