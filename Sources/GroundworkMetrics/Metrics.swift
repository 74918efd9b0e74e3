#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// **Attention ratio** `attention_ratio@1` (VGMED: Liu et al., "How Do Medical MLLMs Fail?",
/// ICLR 2026).
///
/// AR = (Σ_i w_i ã_i / Σ_i w_i) / (Σ_j ã_j / N): the mean relative attention inside the target
/// over the mean over all cells (binary: Σ_{i∈G} ã_i / ((Σ_j ã_j / N) · |G|)). 1 is chance (a
/// flat map), N/|G| the maximum (all mass in the target).
///
/// Reads ã (see `MapWorkspace`). Outcomes: some ã_i < 0 → undefined `negative_values`;
/// Σ ã = 0 (an all-zero map) → undefined `zero_mass`; a constant positive map → 1.
public enum AttentionRatio: GroundingMetric {
    public static let id = "attention_ratio"
    public static let version = 1
    public static let higherIsBetter = true
    public static let chance: ChanceLevel = .constant(1)
    public static let usesRelativeMap = true

    public static func evaluate(_ map: MapWorkspace) -> MetricOutcome {
        if map.relativeHasNegative { return .undefined(UndefinedReason.negativeValues) }
        guard map.relativeSum > 0 else { return .undefined(UndefinedReason.zeroMass) }
        let weights = map.weights
        let relative = map.relative
        var inside = 0.0
        for i in 0..<map.count where weights[i] > 0 { inside += weights[i] * relative[i] }
        let ratio = (inside / map.target.totalWeight) / (map.relativeSum / Double(map.count))
        return .value(ratio)
    }
}

/// The clipping floor of VGMED's divergences: p and g are clipped at 1e-12 before the logarithm.
public let divergenceFloor = 1e-12

/// **KL divergence** `kl_divergence@1` (VGMED).
///
/// KL(g‖p) = Σ_i g_i ln(g_i / p_i) with p = ã / Σ ã and g = w / Σ w (uniform on G under
/// `overlap`); both are clipped at 1e-12 (`max(·, 1e-12)`, no renormalisation) and the sum runs
/// over all N cells, natural logarithm. Lower is better; 0 when p equals g.
///
/// Outcomes: some ã_i < 0 → `negative_values`; Σ ã = 0 → `zero_mass`; a flat map gives
/// ln(N / |G|) (binary target), the chance level.
public enum KLDivergence: GroundingMetric {
    public static let id = "kl_divergence"
    public static let version = 1
    public static let higherIsBetter = false
    public static let chance: ChanceLevel = .flatMap
    public static let usesRelativeMap = true

    public static func evaluate(_ map: MapWorkspace) -> MetricOutcome {
        if map.relativeHasNegative { return .undefined(UndefinedReason.negativeValues) }
        guard map.relativeSum > 0 else { return .undefined(UndefinedReason.zeroMass) }
        let target = map.targetDistribution  // max(w_i / Σw, 1e-12)
        let relative = map.relative
        let mass = map.relativeSum
        var kl = 0.0
        for i in 0..<map.count {
            let g = target[i]
            let p = Swift.max(relative[i] / mass, divergenceFloor)
            kl += g * log(g / p)
        }
        return .value(kl)
    }
}

/// **Jensen–Shannon divergence** `js_divergence@1` (VGMED).
///
/// JS = ½ KL(p‖m) + ½ KL(g‖m), m = (p + g) / 2, with p and g as in `KLDivergence` (clipped at
/// 1e-12 before m is formed), natural logarithm, so 0 ≤ JS ≤ ln 2. Lower is better.
///
/// Outcomes: as `KLDivergence`.
public enum JSDivergence: GroundingMetric {
    public static let id = "js_divergence"
    public static let version = 1
    public static let higherIsBetter = false
    public static let chance: ChanceLevel = .flatMap
    public static let usesRelativeMap = true

    public static func evaluate(_ map: MapWorkspace) -> MetricOutcome {
        if map.relativeHasNegative { return .undefined(UndefinedReason.negativeValues) }
        guard map.relativeSum > 0 else { return .undefined(UndefinedReason.zeroMass) }
        let target = map.targetDistribution  // max(w_i / Σw, 1e-12)
        let relative = map.relative
        let mass = map.relativeSum
        var js = 0.0
        for i in 0..<map.count {
            let g = target[i]
            let p = Swift.max(relative[i] / mass, divergenceFloor)
            let m = (p + g) / 2
            js += 0.5 * p * log(p / m) + 0.5 * g * log(g / m)
        }
        return .value(js)
    }
}

/// **Pointing game** `pointing_game@1` (Zhang et al., "Top-down Neural Attention by Excitation
/// Backprop", ECCV 2016).
///
/// A hit when the map's maximum falls in the target. Ties: with T the set of cells that attain
/// the maximum, the score is |T ∩ P| / |T| (the expected hit under a random choice among the
/// tied maxima), where P is the pointing set: the cells with positive target weight (under
/// either cell rule), plus, with a tolerance of r image pixels, every cell whose centre (mapped
/// back to the image) lies within Euclidean distance r of the target. So a flat map scores
/// |P| / N, chance, not a hit. Values in [0, 1]; defined for every finite map (negative maps
/// too).
public enum PointingGame: GroundingMetric {
    public static let id = "pointing_game"
    public static let version = 1
    public static let higherIsBetter = true
    public static let chance: ChanceLevel = .flatMap

    public static func evaluate(_ map: MapWorkspace) -> MetricOutcome {
        let top = map.maximum
        let pointing = map.pointing
        let values = map.values
        var tied = 0
        var hits = 0
        for i in 0..<map.count where values[i] == top {
            tied += 1
            if pointing[i] { hits += 1 }
        }
        return .value(Double(hits) / Double(tied))
    }
}

/// **Energy pointing game** (relevance mass) `energy_pointing_game@1` (Wang et al.,
/// "Score-CAM", CVPRW 2020; Arras et al., "CLEVR-XAI", Information Fusion 2022).
///
/// EPG = Σ_i w_i a_i⁺ / Σ_i a_i⁺ with a⁺ = max(a, 0): the share of the map's positive mass
/// inside the target. In [0, 1]; a flat positive map gives Σw / N (chance).
///
/// Outcomes: no positive cell (an all-zero or all-negative map) → undefined `no_positive_mass`.
public enum EnergyPointingGame: GroundingMetric {
    public static let id = "energy_pointing_game"
    public static let version = 1
    public static let higherIsBetter = true
    public static let chance: ChanceLevel = .flatMap

    public static func evaluate(_ map: MapWorkspace) -> MetricOutcome {
        guard map.positiveSum > 0 else { return .undefined(UndefinedReason.noPositiveMass) }
        let weights = map.weights
        let values = map.values
        var inside = 0.0
        for i in 0..<map.count where weights[i] > 0 { inside += weights[i] * Swift.max(values[i], 0) }
        return .value(inside / map.positiveSum)
    }
}

/// **Relevance rank accuracy** `relevance_rank_accuracy@1` (Arras et al., "CLEVR-XAI",
/// Information Fusion 2022).
///
/// With K = |G| (the number of cells with positive weight), the share of the target among the K
/// highest cells: RRA = Σ_{i∈top K} w_i / Σ_i w_i (binary: |top K ∩ G| / |G|).
///
/// Ties (stated rule): let v be the K-th highest value, A the cells above v and T the cells
/// equal to v; the K − |A| remaining places are shared by the tied cells in proportion, so
/// RRA = (Σ_{A} w + (K − |A|) / |T| · Σ_{T} w) / Σ w, the expected score under a random
/// tie-break. A flat map scores K / N (chance). Defined for every finite map.
public enum RelevanceRankAccuracy: GroundingMetric {
    public static let id = "relevance_rank_accuracy"
    public static let version = 1
    public static let higherIsBetter = true
    public static let chance: ChanceLevel = .flatMap

    public static func evaluate(_ map: MapWorkspace) -> MetricOutcome {
        let n = map.count
        let k = map.target.supportCount
        let (values, weights) = map.sortedAscending()
        // Descending rank k-1 is ascending index n - k.
        let threshold = values[n - k]
        var above = 0.0
        var aboveCount = 0
        var tiedWeight = 0.0
        var tiedCount = 0
        var i = n - 1
        while i >= 0 && values[i] >= threshold {
            if values[i] > threshold {
                above += weights[i]
                aboveCount += 1
            } else {
                tiedWeight += weights[i]
                tiedCount += 1
            }
            i -= 1
        }
        let slots = Double(k - aboveCount)
        let score = (above + slots / Double(tiedCount) * tiedWeight) / map.target.totalWeight
        return .value(score)
    }
}

/// **AUROC** `auroc@1`: the area under the ROC curve of the map as a detector of target cells,
/// exact and tie-aware (the Mann–Whitney U statistic with mid-ranks: a tied pair counts ½).
///
/// Binary: AUROC = (Σ_{i∈G} R_i − |G|(|G|+1)/2) / (|G| · (N − |G|)) with R the mid-ranks of a.
/// Coverage weights: each cell is w_i positive and 1 − w_i negative, and
/// AUROC = Σ_{i≠j} w_i (1 − w_j) s(a_i, a_j) / Σ_{i≠j} w_i (1 − w_j), s = 1 if a_i > a_j,
/// ½ if equal, 0 otherwise (self-pairs excluded). A flat map scores 0.5.
///
/// Outcomes: the target covers every cell fully (no negative weight) → undefined `no_background`.
public enum AUROC: GroundingMetric {
    public static let id = "auroc"
    public static let version = 1
    public static let higherIsBetter = true
    public static let chance: ChanceLevel = .constant(0.5)

    public static func evaluate(_ map: MapWorkspace) -> MetricOutcome {
        let n = map.count
        let (values, weights) = map.sortedAscending()
        var negativeBelow = 0.0
        var numerator = 0.0
        var positives = 0.0
        var negatives = 0.0
        var selfPairs = 0.0
        var start = 0
        while start < n {
            var end = start + 1
            while end < n && values[end] == values[start] { end += 1 }
            var groupPositive = 0.0
            var groupNegative = 0.0
            var selfInGroup = 0.0
            for j in start..<end {
                groupPositive += weights[j]
                groupNegative += 1 - weights[j]
                selfInGroup += weights[j] * (1 - weights[j])
            }
            selfPairs += selfInGroup
            // Pairs inside the group are ties (½), minus each cell paired with itself.
            numerator += groupPositive * negativeBelow + 0.5 * (groupPositive * groupNegative - selfInGroup)
            negativeBelow += groupNegative
            positives += groupPositive
            negatives += groupNegative
            start = end
        }
        let pairs = positives * negatives - selfPairs
        guard pairs > 0 else { return .undefined(.noBackground) }
        return .value(numerator / pairs)
    }
}

/// **Normalized scanpath saliency** `nss@1` (Peters et al., Vision Research 2005; as in the
/// MIT saliency benchmark, Bylinskii et al., TPAMI 2019).
///
/// NSS = Σ_i w_i z_i / Σ_i w_i with z = (a − μ) / σ, μ and σ the mean and the population
/// standard deviation (divisor N) of a over all cells. 0 is chance.
///
/// Outcomes: a constant map (σ = 0) → 0, the chance level (z is taken as 0 everywhere).
public enum NSS: GroundingMetric {
    public static let id = "nss"
    public static let version = 1
    public static let higherIsBetter = true
    public static let chance: ChanceLevel = .constant(0)

    public static func evaluate(_ map: MapWorkspace) -> MetricOutcome {
        guard map.standardDeviation > 0 else { return .value(0) }
        let weights = map.weights
        let values = map.values
        var inside = 0.0
        for i in 0..<map.count where weights[i] > 0 { inside += weights[i] * values[i] }
        let meanInside = inside / map.target.totalWeight
        return .value((meanInside - map.mean) / map.standardDeviation)
    }
}

/// **Mean IoU over thresholds** `miou@1`.
///
/// mIoU = (1/5) Σ_{t ∈ {0.1, 0.2, 0.3, 0.4, 0.5}} IoU(B_t, G), where b = (a − min a) /
/// (max a − min a) is the min–max normalised map and B_t = {i : b_i > t} (strictly greater).
/// IoU(B, G) = Σ_i min(1[i∈B], w_i) / Σ_i max(1[i∈B], w_i) (the fuzzy IoU; binary: |B ∩ G| /
/// |B ∪ G|).
///
/// Outcomes: a constant map has b = 0 everywhere (no cell above any t), so mIoU = 0. Negative
/// maps are normalised like any other.
public enum MeanIoU: GroundingMetric {
    public static let id = "miou"
    public static let version = 1
    public static let higherIsBetter = true
    public static let chance: ChanceLevel = .constant(0)
    /// The thresholds t.
    public static let thresholds: [Double] = [0.1, 0.2, 0.3, 0.4, 0.5]

    public static func evaluate(_ map: MapWorkspace) -> MetricOutcome {
        let range = map.maximum - map.minimum
        guard range > 0 else { return .value(0) }
        let weights = map.weights
        let values = map.values
        let low = map.minimum
        let n = map.count
        // One pass over the cells: each cell's b once, against every threshold.
        return thresholds.withUnsafeBufferPointer { t in
            withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * t.count) { sums in
                sums.update(repeating: 0)
                let k = t.count
                for i in 0..<n {
                    let b = (values[i] - low) / range
                    let w = weights[i]
                    for j in 0..<k {
                        if b > t[j] {
                            sums[j] += w
                            sums[k + j] += 1
                        } else {
                            sums[k + j] += w
                        }
                    }
                }
                var sum = 0.0
                for j in 0..<k { sum += sums[j] / sums[k + j] }
                return .value(sum / Double(k))
            }
        }
    }
}

/// **Contrast-to-noise ratio** `cnr@1` (as used for attention maps by Brocki and Chung,
/// "Evaluation of interpretability methods and perturbation artifacts in deep neural networks",
/// 2023).
///
/// CNR = |μ_in − μ_out| / √(σ²_in + σ²_out), where μ_in, σ²_in are the w-weighted mean and
/// population variance of a (binary: over G) and μ_out, σ²_out the (1 − w)-weighted ones
/// (binary: over the other cells).
///
/// Outcomes: no background (Σ(1 − w) = 0) → undefined `no_background`; μ_in = μ_out → 0 (a
/// constant map included); both variances 0 with μ_in ≠ μ_out → undefined `zero_variance`.
public enum CNR: GroundingMetric {
    public static let id = "cnr"
    public static let version = 1
    public static let higherIsBetter = true
    public static let chance: ChanceLevel = .constant(0)

    public static func evaluate(_ map: MapWorkspace) -> MetricOutcome {
        let weights = map.weights
        let values = map.values
        let n = map.count
        var win = 0.0
        var wout = 0.0
        var sin = 0.0
        var sout = 0.0
        for i in 0..<n {
            let w = weights[i]
            let a = values[i]
            win += w
            wout += 1 - w
            sin += w * a
            sout += (1 - w) * a
        }
        guard wout > 0 else { return .undefined(.noBackground) }
        let muIn = sin / win
        let muOut = sout / wout
        var vin = 0.0
        var vout = 0.0
        for i in 0..<n {
            let w = weights[i]
            let a = values[i]
            vin += w * (a - muIn) * (a - muIn)
            vout += (1 - w) * (a - muOut) * (a - muOut)
        }
        vin /= win
        vout /= wout
        let numerator = Swift.abs(muIn - muOut)
        if numerator == 0 || map.minimum == map.maximum { return .value(0) }
        let denominator = (vin + vout).squareRoot()
        guard denominator > 0 else { return .undefined(.zeroVariance) }
        return .value(numerator / denominator)
    }
}
