import Foundation
import GRDB
import GroundworkImaging
import GroundworkReleases
import GroundworkStore
import Testing

@Suite struct LeakageTests {
    private func split(_ project: Project, groupBy: SplitGrouping, seed: UInt64 = 1) throws -> SplitReport {
        try Splitter.run(
            project,
            parameters: SplitParameters(
                name: "default", parts: try SplitPart.parse("train=0.5,test=0.5"), groupBy: groupBy, stratify: [], seed: seed))
    }

    @Test func noisyCopiesAreNearDuplicatesAndDistinctScansAreNot() throws {
        let hash = { (sample: SampleImage) in
            PerceptualHash.dHash(try! ImageDecoder.decode(TestProjects.pixels(sample)).pixels)
        }
        let original = hash(SampleImage(content: 5))
        let noisy = hash(SampleImage(content: 5, noise: 3, variant: 1))
        #expect(PerceptualHash.distance(original, noisy) <= PerceptualHash.defaultThreshold)
        for other in 6..<30 {
            #expect(PerceptualHash.distance(original, hash(SampleImage(content: other))) > PerceptualHash.defaultThreshold)
        }
    }

    @Test func sixteenBitScanAndItsEightBitRenderingHashAlike() throws {
        let eight = try ImageDecoder.decode(TestProjects.pixels(SampleImage(content: 9))).pixels
        var wide = [UInt8](repeating: 0, count: eight.samples.count * 2)
        for (index, value) in eight.samples.enumerated() {
            let sixteen = UInt16(value) * 257 + UInt16(index % 7)
            wide[2 * index] = UInt8(sixteen & 0xFF)
            wide[2 * index + 1] = UInt8(sixteen >> 8)
        }
        let sixteen = PixelBuffer(width: eight.width, height: eight.height, channels: 1, bitDepth: 16, samples: wide)
        #expect(PerceptualHash.distance(PerceptualHash.dHash(eight), PerceptualHash.dHash(sixteen)) <= 1)
    }

    @Test func hashesComputedInChunksAreTheHashesOfEveryImage() throws {
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path + "/p")
        try TestProjects.importImages((0..<11).map { SampleImage(patient: nil, content: $0) }, into: project, folder: folder.path)
        let whole = try LeakageCheck.missingHashes(project)
        #expect(whole.count == 11)
        for chunk in [1, 3, 4, 11, 50] {
            let chunked = try LeakageCheck.missingHashes(project, chunk: chunk)
            let ids = try project.database.read { db in try Int64.fetchAll(db, sql: "SELECT id FROM image ORDER BY id") }
            #expect(ids.map { chunked.hash(of: $0) } == ids.map { whole.hash(of: $0) })
            #expect(ids.allSatisfy { chunked.hash(of: $0) != nil })
        }
        #expect(whole.hash(of: 999) == nil)
        try project.database.write { db in try LeakageCheck.store(whole, in: db) }
        #expect(try LeakageCheck.missingHashes(project, chunk: 2).isEmpty)
    }

    @Test func nearDuplicatesAcrossPartsAreFoundWithinThePartsTheyLeakInto() throws {
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path + "/p")
        // Twenty distinct scans, and a noisy copy of each: grouped by image, copies land in other parts.
        var samples = (0..<20).map { SampleImage(patient: nil, content: $0) }
        samples += (0..<20).map { SampleImage(patient: nil, content: $0, noise: 2, variant: 1) }
        try TestProjects.importImages(samples, into: project, folder: folder.path)
        let report = try split(project, groupBy: .image)
        let leak = report.leakage
        #expect(leak.nearDuplicateCount > 0)
        #expect(leak.nearDuplicates.allSatisfy { $0.partA != $0.partB && $0.distance <= leak.threshold })
        // Exactly the pairs (content i, its copy) that were split apart, nothing else.
        let parts = try project.database.read { db in try SplitScope.named(db, "default").partOfImage(db) }
        let shas = try project.database.read { db in
            try Row.fetchAll(db, sql: "SELECT id, sha256 FROM image ORDER BY id").map {
                ($0["id"] as Int64, $0["sha256"] as String)
            }
        }
        var expected = Set<[String]>()
        for i in 0..<20 where parts[shas[i].0] != parts[shas[i + 20].0] { expected.insert([shas[i].1, shas[i + 20].1].sorted()) }
        #expect(Set(leak.nearDuplicates.map { [$0.imageA, $0.imageB] }) == expected)
        #expect(!leak.isClean)
    }

    @Test func aPatientSplitByImageGroupingLeaks() throws {
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path + "/p")
        try TestProjects.importImages(
            (0..<12).map { SampleImage(patient: "same", content: $0) }, into: project, folder: folder.path)
        let byImage = try split(project, groupBy: .image)
        #expect(byImage.leakage.patientLeaks.map(\.patientId) == ["same"])
        let (_, recheck) = try LeakageCheck.check(project, split: "default")
        #expect(recheck == byImage.leakage)
    }

    @Test func groupingByPatientIsClean() throws {
        let folder = TemporaryFolder()
        let project = try Project.create(at: folder.path + "/p")
        try TestProjects.importImages(
            (0..<12).map { SampleImage(patient: "P\($0 % 4)", content: $0) }, into: project, folder: folder.path)
        #expect(try split(project, groupBy: .patient).leakage.isClean)
        // Hashes are stored once, for every image.
        #expect(try project.scalar("SELECT COUNT(*) FROM image WHERE phash IS NULL") == 0)
    }
}
