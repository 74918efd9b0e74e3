import Foundation
import GRDB
import GroundworkCore
import GroundworkGeometry
import GroundworkStore

/// Streaming read access to one frozen release, for export writers. Every listing is sorted by a
/// stable key (ids), so exports are deterministic.
public final class ReleaseContent {
    /// The release's summary (version, parameters, counts, sources, leakage).
    public let summary: ReleaseSummary
    let db: Database
    let releaseId: Int64
    /// Whether images carry their original paths (`--keep-paths`).
    let keepPaths: Bool
    /// The format of the file an export writes for an image, where it is not the stored one
    /// (`--pixels model` renders to PNG), by image id.
    var exportedFormats: [Int64: String] = [:]
    private var labelNames: [Int64: String] = [:]

    init(db: Database, version: String, keepPaths: Bool = false) throws {
        self.db = db
        self.keepPaths = keepPaths
        releaseId = try ReleaseCatalog.releaseId(db, version: version)
        summary = try ReleaseCatalog.show(db, version: version)
        for label in try labels() { labelNames[label.id] = label.name }
    }

    /// The parts (splits) of the release, by name.
    public var splits: [String] { summary.splits.map(\.split) }

    /// Every released label, by name.
    public func labels() throws -> [ReleasedLabel] { try ReleasedLabel.all(db, releaseId: releaseId) }

    /// Images of a part (every part when nil), by id.
    public func forEachImage(split: String?, _ body: (ReleasedImage) throws -> Void) throws {
        let rows = try ReleasedImage.cursor(db, releaseId: releaseId, split: split)
        while let row = try rows.next() { try body(exported(ReleasedImage(row: row, at: 0, keepPaths: keepPaths))) }
    }

    /// Regions on the images of a part, by image then region id.
    public func forEachRegion(split: String?, _ body: (ReleasedRegion) throws -> Void) throws {
        let rows = try ReleasedRegion.cursor(db, releaseId: releaseId, split: split)
        while let row = try rows.next() { try body(ReleasedRegion(row: row, at: 0, labelNames: labelNames)) }
    }

    /// Questions of a part with their images and target regions, by question id.
    public func forEachItem(split: String?, _ body: (ReleasedItem) throws -> Void) throws {
        // One cursor: each question with its image and its target regions, one row per region.
        let rows = try ReleasedQuestion.itemCursor(db, releaseId: releaseId, split: split)
        let imageColumn = ReleasedQuestion.imageColumn
        let regionColumn = ReleasedQuestion.regionColumn
        // Consecutive questions are often on one image: decode it once.
        var lastImage: ReleasedImage?
        var current: ReleasedItem?
        func flush() throws {
            guard var item = current else { return }
            item.regions.sort { $0.id < $1.id }
            try body(item)
            current = nil
        }
        while let row = try rows.next() {
            let questionId: Int64 = row[0]
            if current?.question.id != questionId {
                try flush()
                let question = ReleasedQuestion(row: row, at: 0, labelNames: labelNames)
                let image: ReleasedImage
                if let last = lastImage, last.id == question.imageId {
                    image = last
                } else {
                    image = exported(ReleasedImage(row: row, at: imageColumn, keepPaths: keepPaths))
                    lastImage = image
                }
                current = ReleasedItem(question: question, image: image, regions: [])
            }
            if !row.hasNull(atIndex: regionColumn) {
                current?.regions.append(ReleasedRegion(row: row, at: regionColumn, labelNames: labelNames))
            }
        }
        try flush()
    }

    /// The most options any released choice question has (0 when there is none).
    public func mostChoiceOptions() throws -> Int {
        try ReleasedQuestion.mostChoiceOptions(db, releaseId: releaseId)
    }

    /// The number of questions in a part (every part when nil).
    public func questionCount(split: String?) -> Int {
        summary.splits.filter { split == nil || $0.split == split }.reduce(0) { $0 + $1.questions }
    }

    /// The image with the format of the file the export writes for it.
    private func exported(_ image: ReleasedImage) -> ReleasedImage {
        guard let format = exportedFormats[image.id] else { return image }
        var image = image
        image.format = format
        return image
    }
}
