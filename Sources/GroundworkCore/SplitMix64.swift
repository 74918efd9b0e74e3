import Foundation

/// A seeded pseudo-random generator (SplitMix64): the same seed gives the same sequence on every
/// machine, for deterministic sampling, synthetic data and reproducible tests.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        let value = state
        state &+= 0x9E37_79B9_7F4A_7C15
        return Self.mix(value)
    }

    /// SplitMix64's step as a pure function: a bijective 64-bit mix of `value` (the output the
    /// generator gives from that state), for counter-based randomness that does not depend on the
    /// order of draws.
    @inline(__always)
    public static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in [0, 1) from the top 53 of 64 random bits.
    @inline(__always)
    public static func unit(_ bits: UInt64) -> Double { Double(bits >> 11) * 0x1p-53 }

    /// A uniform double in [0, 1).
    public mutating func unit() -> Double { Self.unit(next()) }

    /// A standard normal sample (Box–Muller).
    public mutating func gaussian() -> Double {
        let u1 = max(unit(), 1e-300)
        let u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}
