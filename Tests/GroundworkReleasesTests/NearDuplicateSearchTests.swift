import GroundworkCore
import GroundworkImaging
import Testing

@testable import GroundworkReleases

/// The banded near-duplicate search against every pair compared, on hashes made to collide.
@Suite struct NearDuplicateSearchTests {
    /// Every pair in different parts within the threshold, by brute force, as (distance, a, b)
    /// with a < b by name.
    private func bruteForce(_ items: LeakageCheck.HashedImages, threshold: Int) -> [String] {
        var pairs: [(Int, String, String)] = []
        for i in 0..<items.count {
            for j in (i + 1)..<items.count where items.partIndex[i] != items.partIndex[j] {
                let distance = PerceptualHash.distance(items.hashes[i], items.hashes[j])
                guard distance <= threshold else { continue }
                let (a, b) = (name(items.ids[i]), name(items.ids[j]))
                pairs.append(a < b ? (distance, a, b) : (distance, b, a))
            }
        }
        return pairs.sorted { $0 < $1 }.map { "\($0.0) \($0.1) \($0.2)" }
    }

    private func name(_ id: Int64) -> String { "image-\(String(id, radix: 16))" }

    @Test(arguments: [0, 1, 4, 9, 63])
    func theBandedSearchFindsExactlyThePairsWithinTheThreshold(threshold: Int) throws {
        var random = SplitMix64(seed: UInt64(threshold) + 11)
        var items = LeakageCheck.HashedImages()
        // 60 seeds, each with a few copies that flip up to 12 random bits: pairs at every distance.
        for seed in 0..<60 {
            let base = random.next()
            for copy in 0..<4 {
                var hash = base
                for _ in 0..<Int(random.next() % 13) where copy > 0 { hash ^= 1 << (random.next() % 64) }
                items.append(id: Int64(seed * 10 + copy), hash: hash, part: ["train", "val", "test"][Int(random.next() % 3)])
            }
        }
        let found = try LeakageCheck.nearDuplicates(items, threshold: threshold) { name($0) }
        let expected = bruteForce(items, threshold: threshold)
        #expect(found.map { "\($0.distance) \($0.imageA) \($0.imageB)" } == expected)
        #expect(!expected.isEmpty)
        #expect(found.allSatisfy { $0.partA != $0.partB })
    }
}
