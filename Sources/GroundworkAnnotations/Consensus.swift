import Foundation
import GRDB
import GroundworkCore
import GroundworkGeometry
import GroundworkStore

/// How a consensus region is made from several readers' regions of one finding.
///
/// Each method has an id with a version, recorded on the region it makes (`consensus_method`),
/// with the regions it was made from (`consensus_member`).
public enum ConsensusMethod: String, Codable, Sendable, CaseIterable {
    /// The pixels any reader marked (`union@1`).
    case union
    /// The pixels every reader marked (`intersection@1`); nothing is made when that is empty.
    case intersection
    /// The pixels more than half of the readers marked (`majority@1`); nothing when empty.
    case majority
    /// The mean of the readers' boxes, coordinate by coordinate (`mean-box@1`); only when every
    /// reader drew exactly one box.
    case meanBox = "mean-box"

    public var id: String { "\(rawValue)@1" }
}

/// What `groundwork consensus` did.
public struct ConsensusReport: Codable, Sendable {
    public var method: String
    public var made: Int
    public var existing: Int
    /// Findings with fewer than two readers, or where the method yields nothing.
    public var skipped: Int
    public var batchId: Int64?
}

/// Makes consensus regions for every finding (image, label) with at least `minReaders` readers.
///
/// Crowd regions (COCO's `iscrowd` = 1) are not inputs: a crowd's outline is not an instance, so
/// it neither counts as a reader's box (`mean-box` needs exactly one per reader) nor adds pixels.
public enum Consensus {
    public static func run(
        _ method: ConsensusMethod, minReaders: Int = 2, label: String? = nil, project: Project, arguments: [String]
    ) throws -> ConsensusReport {
        var report = ConsensusReport(method: method.id, made: 0, existing: 0, skipped: 0, batchId: nil)
        let now = Provenance.timestamp(Date())
        try project.database.writeWithoutTransaction { db in
            try db.inTransaction(.immediate) {
                var batch = ImportBatch.starting(
                    kind: "consensus", format: "consensus", arguments: arguments, inputs: [method.id])
                try batch.insert(db)
                let (filter, arguments) = try LabelIndex.condition(db, name: label, column: "r.label_id")
                let rows = try RegionRecord.consensusCandidates(db, labelCondition: filter, arguments: arguments)
                let regions = try RegionRecord.Inserter(db)
                var index = 0
                while index < rows.count {
                    let imageId: Int64 = rows[index]["image_id"], labelId: Int64 = rows[index]["label_id"]
                    var group: [Row] = []
                    while index < rows.count, rows[index]["image_id"] as Int64 == imageId,
                        rows[index]["label_id"] as Int64 == labelId
                    {
                        group.append(rows[index])
                        index += 1
                    }
                    let readers = Dictionary(grouping: group) { $0["annotator_id"] as Int64 }
                    guard readers.count >= max(2, minReaders),
                        let geometry = make(method, readers: readers, width: group[0]["width"], height: group[0]["height"])
                    else {
                        report.skipped += 1
                        continue
                    }
                    let json = GeometryCheck.canonicalJSON(geometry)
                    let key = IdentityKey.of(json)
                    let box = geometry.tightBox!
                    let record = RegionRecord(
                        imageId: imageId, labelId: labelId, kind: RegionKind(geometry), geometry: json, geometryKey: key,
                        x0: box.x0, y0: box.y0, x1: box.x1, y1: box.y1, area: geometry.area, annotatorId: nil,
                        batchId: batch.id!, consensusMethod: method.id, createdAt: now)
                    guard let consensusId = try regions.insert(record) else {
                        report.existing += 1
                        continue
                    }
                    try RegionRecord.recordConsensus(db, consensusId: consensusId, members: group.map { $0["id"] })
                    report.made += 1
                }
                batch.imported = report.made
                batch.duplicates = report.existing
                try batch.update(db)
                report.batchId = batch.id
                return .commit
            }
        }
        return report
    }

    /// The consensus shape of one finding, or nil when the method yields nothing.
    static func make(_ method: ConsensusMethod, readers: [Int64: [Row]], width: Int, height: Int) -> Geometry? {
        func geometry(_ row: Row) -> Geometry? {
            try? JSONDecoder().decode(Geometry.self, from: Data((row["geometry"] as String).utf8))
        }
        switch method {
        case .meanBox:
            var boxes: [Box] = []
            for key in readers.keys.sorted() {
                guard readers[key]!.count == 1, case .box(let box)? = geometry(readers[key]![0]) else { return nil }
                boxes.append(box)
            }
            let n = Double(boxes.count)
            return .box(
                Box(
                    x0: boxes.map(\.x0).reduce(0, +) / n, y0: boxes.map(\.y0).reduce(0, +) / n,
                    x1: boxes.map(\.x1).reduce(0, +) / n, y1: boxes.map(\.y1).reduce(0, +) / n))
        case .union, .intersection, .majority:
            var masks: [BinaryMask] = []
            for key in readers.keys.sorted() {
                let shapes = readers[key]!.compactMap(geometry).map { $0.rasterize(width: width, height: height) }
                guard let merged = BinaryMask.union(shapes) else { return nil }
                masks.append(merged)
            }
            let result: BinaryMask?
            switch method {
            case .union: result = BinaryMask.union(masks)
            case .intersection: result = BinaryMask.intersection(masks)
            default: result = BinaryMask.majority(masks)
            }
            guard let result, result.area > 0 else { return nil }
            return .mask(RLE(mask: result))
        }
    }
}
