import GroundworkCore
import GroundworkMetrics
import Testing

/// Hand-worked values of every metric on small grids.
@Suite struct MetricHandWorkedTests {
    @Test func registryHasOneVersionedIDPerMetric() {
        let ids = Metrics.all.map { $0.versionedID }
        #expect(Set(ids).count == ids.count)
        #expect(ids.contains("attention_ratio@1") && ids.contains("auroc@1") && ids.count == 10)
        #expect(Metrics.named("auroc")?.versionedID == "auroc@1")
        #expect(Metrics.named("auroc@1") != nil && Metrics.named("auroc@2") == nil)
    }

    /// Each metric declares its direction and chance level; a constant chance level is what a
    /// flat map scores whatever the target, and only the divergences are lower-is-better.
    @Test func declaredDirectionAndChanceLevel() {
        #expect(Metrics.all.filter { !$0.higherIsBetter }.map { $0.id } == ["kl_divergence", "js_divergence"])
        #expect(!Metrics.higherIsBetter("kl_divergence@1") && !Metrics.higherIsBetter("js_divergence@7"))
        #expect(Metrics.higherIsBetter("auroc@1") && Metrics.higherIsBetter("unknown_metric@1"))
        func flatScoresChance<M: GroundingMetric>(_ metric: M.Type) {
            guard case .constant(let level) = M.chance else { return }
            for (rows, cols, target) in [(2, 2, [0]), (3, 4, [1, 5, 6]), (4, 4, Array(0..<8))] {
                let flat = [Double](repeating: 0.5, count: rows * cols)
                #expect(approx(evaluate(metric, flat, rows: rows, cols: cols, target: target).value, level), "\(M.id)")
            }
        }
        flatScoresChance(AttentionRatio.self)
        flatScoresChance(AUROC.self)
        flatScoresChance(NSS.self)
        flatScoresChance(MeanIoU.self)
        flatScoresChance(CNR.self)
        var targetDependent: [String] = []
        for metric in Metrics.all where metric.chance == .flatMap { targetDependent.append(metric.id) }
        #expect(
            targetDependent == [
                "kl_divergence", "js_divergence", "pointing_game", "energy_pointing_game", "relevance_rank_accuracy",
            ])
    }

    /// 2 × 2 grid, target = cell 0, all the mass in it.
    @Test func allMassInTheBox() {
        let map = [1.0, 0, 0, 0]
        func value<M: GroundingMetric>(_ m: M.Type) -> MetricOutcome { evaluate(m, map, rows: 2, cols: 2, target: [0]) }
        #expect(approx(value(AttentionRatio.self).value, 4))  // N / |G|
        #expect(approx(value(KLDivergence.self).value, 0))
        #expect(approx(value(JSDivergence.self).value, 0, tolerance: 1e-9))
        #expect(value(PointingGame.self) == .value(1))
        #expect(value(EnergyPointingGame.self) == .value(1))
        #expect(value(RelevanceRankAccuracy.self) == .value(1))
        #expect(value(AUROC.self) == .value(1))
        #expect(approx(value(NSS.self).value, 3.0.squareRoot()))  // 0.75 / sqrt(0.1875)
        #expect(value(MeanIoU.self) == .value(1))
        // Both groups constant, means differ: CNR's denominator is 0.
        #expect(value(CNR.self) == .undefined(.zeroVariance))
    }

    /// A flat map scores chance everywhere.
    @Test func flatMapScoresChance() {
        let map = [Double](repeating: 0.25, count: 4)
        func value<M: GroundingMetric>(_ m: M.Type) -> Double? { evaluate(m, map, rows: 2, cols: 2, target: [0]).value }
        #expect(approx(value(AttentionRatio.self), 1))
        #expect(approx(value(KLDivergence.self), 1.3862943611198906, tolerance: 1e-9))  // ln(N / |G|)
        #expect(approx(value(PointingGame.self), 0.25))  // ties: the fraction of tied maxima inside
        #expect(approx(value(EnergyPointingGame.self), 0.25))
        #expect(approx(value(RelevanceRankAccuracy.self), 0.25))
        #expect(approx(value(AUROC.self), 0.5))
        #expect(value(NSS.self) == 0)
        #expect(value(MeanIoU.self) == 0)
        #expect(value(CNR.self) == 0)
    }

    @Test func tiesAreSharedNotWon() {
        // Cells 0 and 1 tie at the maximum; the target is cell 1.
        let map = [2.0, 2, 1, 0]
        #expect(evaluate(PointingGame.self, map, rows: 2, cols: 2, target: [1]) == .value(0.5))
        #expect(evaluate(RelevanceRankAccuracy.self, map, rows: 2, cols: 2, target: [1]) == .value(0.5))
        // Mann–Whitney with mid-ranks: against 2 (tie, ½), 1 and 0 (wins): 2.5 / 3.
        #expect(approx(evaluate(AUROC.self, map, rows: 2, cols: 2, target: [1]).value, 2.5 / 3))
        // Rank accuracy with K = 2 and a tie straddling the cut: 3 cells tie at 1 for the 2nd place.
        let map2 = [5.0, 1, 1, 1]
        #expect(approx(evaluate(RelevanceRankAccuracy.self, map2, rows: 2, cols: 2, target: [0, 1]).value, (1 + 1.0 / 3) / 2))
    }

    @Test func negativeMap() {
        let map = [-1.0, -2, -3, -4]
        func value<M: GroundingMetric>(_ m: M.Type) -> MetricOutcome { evaluate(m, map, rows: 2, cols: 2, target: [0]) }
        #expect(value(AttentionRatio.self) == .undefined(.negativeValues))
        #expect(value(KLDivergence.self) == .undefined(.negativeValues))
        #expect(value(JSDivergence.self) == .undefined(.negativeValues))
        #expect(value(EnergyPointingGame.self) == .undefined(.noPositiveMass))
        #expect(value(PointingGame.self) == .value(1))
        #expect(value(AUROC.self) == .value(1))
        #expect(approx(value(NSS.self).value, 1.5 / 1.25.squareRoot()))
        // b = [1, 2/3, 1/3, 0]: IoU 1/3 at t = .1, .2, .3; 1/2 at t = .4, .5.
        #expect(approx(value(MeanIoU.self).value, 0.4))
    }

    @Test func allZeroMap() {
        let map = [0.0, 0, 0, 0]
        func value<M: GroundingMetric>(_ m: M.Type) -> MetricOutcome { evaluate(m, map, rows: 2, cols: 2, target: [0]) }
        #expect(value(AttentionRatio.self) == .undefined(.zeroMass))
        #expect(value(KLDivergence.self) == .undefined(.zeroMass))
        #expect(value(EnergyPointingGame.self) == .undefined(.noPositiveMass))
        #expect(value(PointingGame.self) == .value(0.25))
        #expect(value(AUROC.self) == .value(0.5))
        #expect(value(NSS.self) == .value(0))
    }

    @Test func targetCoveringEveryCellHasNoBackground() {
        let map = [1.0, 2, 3, 4]
        #expect(evaluate(AUROC.self, map, rows: 2, cols: 2, target: [0, 1, 2, 3]) == .undefined(.noBackground))
        #expect(evaluate(CNR.self, map, rows: 2, cols: 2, target: [0, 1, 2, 3]) == .undefined(.noBackground))
        #expect(evaluate(AttentionRatio.self, map, rows: 2, cols: 2, target: [0, 1, 2, 3]) == .value(1))
    }

    @Test func contrastToNoise() {
        // in {3, 1}: mean 2, variance 1; out {2, 0}: mean 1, variance 1.
        #expect(approx(evaluate(CNR.self, [3, 1, 2, 0], rows: 2, cols: 2, target: [0, 1]).value, 1 / 2.0.squareRoot()))
    }

    @Test func relativeAttentionDividesByTheBaseline() {
        // ã = [2, 1, 1, 0.5]; AR = 2 / (4.5 / 4).
        let ar = evaluate(
            AttentionRatio.self, [0.4, 0.2, 0.2, 0.2], rows: 2, cols: 2, target: [0], baseline: [0.2, 0.2, 0.2, 0.4])
        #expect(approx(ar.value, 2 / (4.5 / 4)))
        // A zero baseline cell is divided by ε = 1e-8.
        let workspace = MapWorkspace()
        workspace.load(target: TargetCells(rows: 1, cols: 2, cells: [0]), values: [1, 1], baseline: [0, 1])
        #expect(workspace.relative[0] == 1e8 && workspace.relative[1] == 1)
        // Metrics other than VGMED's read the raw map: the pointing game sees a tie.
        #expect(PointingGame.evaluate(workspace) == .value(0.5))
    }

    @Test func coverageWeights() {
        // Cell 0 is half covered; its positive half beats cell 1's negative whole.
        #expect(evaluate(AUROC.self, [1, 0], rows: 1, cols: 2, weights: [0.5, 0]) == .value(1))
        // AR with weights: (0.5 · 3 / 0.5) / (4 / 2).
        #expect(approx(evaluate(AttentionRatio.self, [3, 1], rows: 1, cols: 2, weights: [0.5, 0]).value, 1.5))
        // Fuzzy IoU: b = [1, 0]; B = {0}: min(1, .5) / max(1, .5) = 0.5 at every t.
        #expect(approx(evaluate(MeanIoU.self, [1, 0], rows: 1, cols: 2, weights: [0.5, 0]).value, 0.5))
    }
}

@Suite struct SortedCellsTests {
    /// The workspace's radix sort gives the numeric order of every finite double (negative,
    /// −0 and +0, subnormal, huge, many ties), each value still paired with its cell's weight.
    @Test func radixOrderIsNumericOrder() {
        var random = SplitMix64(seed: 7)
        let specials: [Double] = [
            0, -0.0, 1, -1, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .greatestFiniteMagnitude,
            -.greatestFiniteMagnitude, 1e-300, -1e-300, 0.5, 0.5, 0.5,
        ]
        for n in [1, 2, 3, 17, 576, 5000] {
            var values = (0..<n).map { i -> Double in
                switch i % 4 {
                case 0: return specials[Int(random.next() % UInt64(specials.count))]
                case 1: return Double(Int(random.next() % 7)) - 3  // ties
                case 2: return (random.unit() - 0.5) * 1e6
                default: return random.unit() * 1e-9
                }
            }
            if n == 5000 { values.reverse() }
            let weights = (0..<n).map { Double($0) / Double(n) }
            let workspace = MapWorkspace()
            workspace.load(target: TargetCells(rows: 1, cols: n, weights: weights), values: values)
            let (sortedValues, sortedWeights) = workspace.sortedAscending()
            #expect(Array(sortedValues) == values.sorted(), "n = \(n)")
            // Each (value, weight) pair survives the sort.
            let expected = zip(values, weights).map { "\($0.0)|\($0.1)" }.sorted()
            let actual = zip(sortedValues, sortedWeights).map { "\($0.0)|\($0.1)" }.sorted()
            #expect(actual == expected, "n = \(n)")
        }
    }
}
