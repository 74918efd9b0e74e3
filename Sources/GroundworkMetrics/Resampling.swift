import GroundworkCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Seeded, counter-based randomness for resampling: every draw is a pure function of the seed,
/// the item's id and the replicate number, so results do not depend on thread scheduling or on
/// the order items are read, and the same item gets the same weights in every run and command.
public enum Resampling {
    /// SplitMix64's finaliser: a bijective 64-bit mix.
    @inline(__always)
    public static func mix(_ value: UInt64) -> UInt64 { SplitMix64.mix(value) }

    /// FNV-1a 64 of a string's UTF-8 bytes.
    public static func hash(_ text: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01B3
        }
        return h
    }

    /// A uniform double in [0, 1) from 64 random bits.
    @inline(__always)
    public static func unit(_ bits: UInt64) -> Double { SplitMix64.unit(bits) }

    /// The cumulative distribution of Poisson(1): P(K ≤ k), k = 0…19.
    static let poissonCDF: [Double] = {
        var cdf: [Double] = []
        var term = exp(-1.0)
        var total = 0.0
        for k in 0..<20 {
            if k > 0 { term /= Double(k) }
            total += term
            cdf.append(total)
        }
        return cdf
    }()

    /// The Poisson(1) bootstrap weights of one item for replicates 0..<count (Hanley and
    /// MacGibbon 2006; Chamandy et al. 2012): each replicate counts the item K ~ Poisson(1)
    /// times, which approximates the multinomial bootstrap and can be accumulated in one pass.
    public static func poissonWeights(seed: UInt64, item: String, count: Int, into weights: inout [Double]) {
        if weights.count != count { weights = [Double](repeating: 0, count: count) }
        let base = mix(seed ^ mix(hash(item)))
        let cdf = poissonCDF
        for b in 0..<count {
            let u = unit(mix(base &+ UInt64(b) &* 0xD1B5_4A32_D192_ED03))
            var k = 0
            while k < cdf.count - 1 && u >= cdf[k] { k += 1 }
            weights[b] = Double(k)
        }
    }

    /// The q-quantile (0…1) of sorted values by linear interpolation between closest ranks
    /// (numpy's default `linear` method).
    public static func quantile(sorted values: [Double], _ q: Double) -> Double {
        precondition(!values.isEmpty)
        let position = q * Double(values.count - 1)
        let low = Int(position.rounded(.down))
        let high = Swift.min(low + 1, values.count - 1)
        let fraction = position - Double(low)
        return values[low] + (values[high] - values[low]) * fraction
    }

    /// The two-sided paired permutation (sign-flip) p-value of the mean of `differences`:
    /// (1 + #{|mean of flipped| ≥ |observed mean|}) / (1 + permutations), the flips drawn from
    /// the seed (Phipson and Smyth 2010's unbiased form).
    public static func signFlipPValue(_ differences: [Double], permutations: Int, seed: UInt64) -> Double {
        let n = differences.count
        guard n > 0, permutations > 0 else { return 1 }
        let observed = Swift.abs(differences.reduce(0, +))
        // Compare sums with a tolerance for the rounding of the additions.
        let tolerance = 1e-12 * Swift.max(1, differences.reduce(0) { $0 + Swift.abs($1) })
        var extreme = 0
        var state = mix(seed ^ 0x5EED_F11B)
        for _ in 0..<permutations {
            var total = 0.0
            var bits: UInt64 = 0
            for i in 0..<n {
                if i % 64 == 0 {
                    state = mix(state)
                    bits = state
                }
                total += (bits & 1) == 1 ? differences[i] : -differences[i]
                bits >>= 1
            }
            if Swift.abs(total) >= observed - tolerance { extreme += 1 }
        }
        return Double(1 + extreme) / Double(1 + permutations)
    }
}
