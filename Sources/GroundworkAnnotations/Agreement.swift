import Foundation
import GRDB
import GroundworkCore
import GroundworkGeometry
import GroundworkStore

/// Agreement between readers (VinDr-CXR-style: one finding, regions from several annotators).
///
/// Conventions (`agreement@1`): a finding is an (image, label) pair. Each annotator's regions of
/// that finding are merged into one shape: for boxes only, the set of boxes; otherwise a mask
/// (union of the rasterised regions, pixel centres inside). The IoU of two annotators is the IoU
/// of their masks at image resolution (boxes are rasterised the same way, so every kind compares
/// alike). Findings with fewer than two annotators have no agreement and are counted apart.
/// Rejected regions, consensus regions and crowd regions (COCO's `iscrowd`: a group's outline,
/// not an instance a reader drew) are left out.
public struct AgreementReport: Codable, Sendable {
    public struct Finding: Codable, Sendable {
        public var imageId: Int64
        public var label: String
        public var annotators: [String]
        /// IoU for every pair of annotators, in name order.
        public var pairwiseIou: [Double]
        public var meanIou: Double
        public var minIou: Double
    }

    public struct LabelSummary: Codable, Sendable {
        public var label: String
        public var findings: Int
        /// Mean over findings of their mean pairwise IoU.
        public var meanIou: Double
        /// The lowest pairwise IoU of any finding.
        public var minIou: Double
    }

    public var method: String
    public var findings: [Finding]
    public var labels: [LabelSummary]
    /// Findings drawn by a single annotator.
    public var singleReader: Int

    /// Computes agreement, optionally for one label.
    public static func compute(_ project: Project, label: String? = nil) throws -> AgreementReport {
        try project.database.read { db in
            let (labelFilter, arguments) = try LabelIndex.condition(db, name: label, column: "r.label_id")
            let rows = try RegionRecord.agreementRows(db, labelCondition: labelFilter, arguments: arguments)
            var findings: [Finding] = []
            var single = 0
            var index = 0
            while index < rows.count {
                let imageId: Int64 = rows[index]["image_id"], labelId: Int64 = rows[index]["label_id"]
                var group: [Row] = []
                while index < rows.count, rows[index]["image_id"] as Int64 == imageId, rows[index]["label_id"] as Int64 == labelId
                {
                    group.append(rows[index])
                    index += 1
                }
                let width: Int = group[0]["width"], height: Int = group[0]["height"]
                var masks: [String: BinaryMask] = [:]
                for row in group {
                    let name: String = row["annotator"] ?? "(unnamed)"
                    guard let geometry = try? JSONDecoder().decode(Geometry.self, from: Data((row["geometry"] as String).utf8))
                    else { continue }
                    let mask = geometry.rasterize(width: width, height: height)
                    masks[name] = masks[name].flatMap { BinaryMask.union([$0, mask]) } ?? mask
                }
                let names = masks.keys.sorted()
                guard names.count >= 2 else {
                    single += 1
                    continue
                }
                var ious: [Double] = []
                for i in 0..<names.count {
                    for j in (i + 1)..<names.count { ious.append(masks[names[i]]!.iou(masks[names[j]]!)) }
                }
                findings.append(
                    Finding(
                        imageId: imageId, label: group[0]["label"], annotators: names, pairwiseIou: ious,
                        meanIou: ious.reduce(0, +) / Double(ious.count), minIou: ious.min()!))
            }
            let byLabel = Dictionary(grouping: findings, by: \.label)
            let labels = byLabel.keys.sorted().map { name in
                let list = byLabel[name]!
                return LabelSummary(
                    label: name, findings: list.count, meanIou: list.map(\.meanIou).reduce(0, +) / Double(list.count),
                    minIou: list.map(\.minIou).min()!)
            }
            return AgreementReport(method: "agreement@1", findings: findings, labels: labels, singleReader: single)
        }
    }
}
