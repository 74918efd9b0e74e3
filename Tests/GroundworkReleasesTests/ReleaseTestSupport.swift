import Foundation
import GRDB
import GroundworkCore
import GroundworkImaging
import GroundworkStore
@_exported import GroundworkTestSupport

/// One image to put in a test project.
struct SampleImage {
    var patient: String?
    var modality: String = "CT"
    /// Pixel content: images with the same `content` and `noise` 0 are pixel-identical scans.
    var content: Int
    /// Small per-pixel noise amplitude added to the content (0: none).
    var noise: Int = 0
    /// Distinguishes the bytes of two images with the same content.
    var variant: Int = 0
}

/// Builds test projects through the library, as a curator would.
enum TestProjects {
    /// A 64×64 8-bit gray image: a few seeded blobs on a gradient (distinct contents have distinct
    /// perceptual hashes), plus optional noise.
    static func pixels(_ sample: SampleImage) -> [UInt8] {
        var rng = SplitMix64(seed: UInt64(sample.content) &* 7919 &+ 1)
        let size = 64
        var blobs: [(x: Double, y: Double, r: Double, v: Double)] = []
        for _ in 0..<6 {
            blobs.append(
                (
                    Double.random(in: 0..<64, using: &rng), Double.random(in: 0..<64, using: &rng),
                    Double.random(in: 4..<16, using: &rng), Double.random(in: 40..<120, using: &rng)
                ))
        }
        var noise = SplitMix64(seed: UInt64(sample.variant) &+ 99)
        var samples = [UInt8](repeating: 0, count: size * size)
        for y in 0..<size {
            for x in 0..<size {
                var value = Double(x + y)
                for blob in blobs {
                    let d = ((Double(x) - blob.x) * (Double(x) - blob.x) + (Double(y) - blob.y) * (Double(y) - blob.y))
                    value += blob.v * exp(-d / (2 * blob.r * blob.r))
                }
                if sample.noise > 0 { value += Double(Int.random(in: -sample.noise...sample.noise, using: &noise)) }
                samples[y * size + x] = UInt8(max(0, min(255, value.rounded())))
            }
        }
        // The variant goes into a pixel of the corner, so same-content images differ in bytes.
        samples[0] = UInt8(truncatingIfNeeded: sample.variant)
        return try! PNGEncoder.encode(PixelBuffer(width: size, height: size, channels: 1, bitDepth: 8, samples: samples))
    }

    /// Imports the samples (metadata CSV for patients and modalities; source `test-source`, licence
    /// CC0-1.0 unless `license` is nil) into `project`.
    @discardableResult
    static func importImages(
        _ samples: [SampleImage], into project: Project, folder: String, license: String? = "CC0-1.0",
        source: String? = "test-source"
    ) throws -> ImageImportReport {
        let directory = "\(folder)/in-\(UUID().uuidString)"
        try FileIO.makeDirectories(directory)
        var csv = "file_name,patient_id,modality\n"
        var paths: [String] = []
        for (index, sample) in samples.enumerated() {
            let name = "img\(index).png"
            try FileIO.writeAtomically("\(directory)/\(name)", bytes: pixels(sample))
            csv += "\(name),\(sample.patient ?? ""),\(sample.modality)\n"
            paths.append("\(directory)/\(name)")
        }
        try FileIO.writeAtomically("\(directory)/meta.csv", bytes: Array(csv.utf8))
        var options = ImageImportOptions(paths: paths)
        options.metadataCSV = "\(directory)/meta.csv"
        options.source = source
        options.license = license
        options.showProgress = false
        return try ImageImporter.run(options, into: project)
    }

    /// Adds a label, one box region and one groundable localization question on every image
    /// (and a second, non-groundable question), as plain rows.
    static func annotateEveryImage(_ project: Project, label: String = "liver") throws {
        try project.database.write { db in
            var batch = ImportBatch.starting(kind: "regions", format: "test", arguments: [], inputs: [])
            try batch.insert(db)
            try db.execute(
                sql: "INSERT OR IGNORE INTO label (name, display_name) VALUES (?, ?)", arguments: [label, label.capitalized])
            let labelId = try Int64.fetchOne(db, sql: "SELECT id FROM label WHERE name = ?", arguments: [label])!
            for imageId in try Int64.fetchAll(db, sql: "SELECT id FROM image ORDER BY id") {
                try db.execute(
                    sql: """
                        INSERT INTO region (image_id, label_id, kind, geometry, geometry_key, x0, y0, x1, y1, area, batch_id, created_at)
                        VALUES (?, ?, 'box', '{"box":[4,4,20,24],"type":"box"}', ?, 4, 4, 20, 24, 320, ?, '2026-01-01T00:00:00Z')
                        """, arguments: [imageId, labelId, imageId, batch.id])
                let regionId = db.lastInsertedRowID
                for (index, (question, groundable)) in [("Is the \(label) visible?", true), ("Is there a tumour?", false)]
                    .enumerated()
                {
                    try db.execute(
                        sql: """
                            INSERT INTO vqa_item (image_id, question, answer, answer_type, question_type, target_label_id,
                                groundable, batch_id, identity_key, created_at)
                            VALUES (?, ?, ?, 'closed', 'localization', ?, ?, ?, ?, '2026-01-01T00:00:00Z')
                            """,
                        arguments: [
                            imageId, question, groundable ? "yes" : "no", groundable ? labelId : nil, groundable, batch.id,
                            index + 1,
                        ])
                    if groundable {
                        try db.execute(
                            sql: "INSERT INTO vqa_target (vqa_id, region_id) VALUES (?, ?)",
                            arguments: [db.lastInsertedRowID, regionId])
                    }
                }
            }
        }
    }
}

extension Project {
    func scalar(_ sql: String, _ arguments: StatementArguments = []) throws -> Int {
        try database.read { db in try Int.fetchOne(db, sql: sql, arguments: arguments) ?? -1 }
    }
}
