import Foundation
import GRDB
import GroundworkCore

/// A reviewer's decision on an image that may carry burned-in identifiers (names, dates, IDs drawn
/// into the pixels), made after looking at the pixels.
public enum BurnedInDecision: String, Sendable, Codable, CaseIterable {
    /// The pixels carry no identifier: the flag becomes `cleared` and the release gate lets the image through.
    case clear
    /// The pixels do (or may) carry identifiers: the flag stays (or becomes) `flagged`, now
    /// confirmed by a reviewer; the release gate keeps refusing the image.
    case confirm
}

/// Clearing or confirming burned-in-identifier flags (`image.review_flag`): the one code path of
/// `groundwork images flag` and of the review app.
public enum BurnedInReview {
    /// The reason recorded when a reviewer flags an image that was not flagged on import.
    public static let reviewerReason = "burned-in identifiers seen by a reviewer"

    /// What one decision did to one image.
    public struct Outcome: Codable, Sendable, Equatable {
        public var id: Int64
        /// The flag before and after: nil (never flagged), `flagged` or `cleared`.
        public var previous: String?
        public var flag: String
        public var reviewedBy: String
        public var reviewedAt: String
        public var version: Int
    }

    /// Applies `decision` to the images, recording the reviewer, the time and one more flag
    /// version on each. All or nothing: an unknown id, clearing an image that was never flagged,
    /// or an image whose flag version is not the one in `expectedVersions` (``ReviewConflict``)
    /// is an error, and nothing changes.
    /// - Parameter reviewer: the name recorded (already checked); nil records the user running the tool.
    public static func apply(
        _ decision: BurnedInDecision, imageIds: [Int64], project: Project, reviewer: String?,
        expectedVersions: [Int64: Int] = [:], at date: Date = Date()
    ) throws -> [Outcome] {
        let who = reviewer ?? Provenance.current().user
        let when = Provenance.timestamp(date)
        return try project.database.write { db in
            var outcomes: [Outcome] = []
            var problems: [Diagnostic] = []
            var seen = Set<Int64>()
            for id in imageIds where seen.insert(id).inserted {
                guard let image = try ImageRecord.fetchOne(db, key: id) else {
                    problems.append(Diagnostic(.error, file: "image \(id)", code: "not_found", message: "no such image"))
                    continue
                }
                if let expected = expectedVersions[id], expected != image.flagVersion {
                    throw ReviewConflict(
                        noun: "image", id: id, expectedVersion: expected, version: image.flagVersion,
                        status: image.reviewFlag, reviewedBy: image.flagReviewedBy, reviewedAt: image.flagReviewedAt)
                }
                if decision == .clear && image.reviewFlag == nil {
                    problems.append(
                        Diagnostic(
                            .error, file: "image \(id)", code: "not_flagged",
                            message: "the image was never flagged for burned-in identifiers: there is nothing to clear"))
                    continue
                }
                let flag = decision == .clear ? "cleared" : "flagged"
                let reason = image.reviewReason ?? reviewerReason
                try db.execute(
                    sql: """
                        UPDATE image SET review_flag = ?, review_reason = ?, flag_reviewed_by = ?, flag_reviewed_at = ?,
                            flag_version = flag_version + 1
                        WHERE id = ?
                        """, arguments: [flag, reason, who, when, id])
                outcomes.append(
                    Outcome(
                        id: id, previous: image.reviewFlag, flag: flag, reviewedBy: who, reviewedAt: when,
                        version: image.flagVersion + 1))
            }
            if !problems.isEmpty {
                throw DiagnosticsError(
                    summary:
                        "\(problems.count) image(s) could not be \(decision == .clear ? "cleared" : "confirmed"): nothing changed",
                    diagnostics: problems)
            }
            return outcomes
        }
    }
}

/// A review refused because the row was reviewed by someone else since the caller read it: the
/// row's version is not the one the caller saw. Nothing was changed.
public struct ReviewConflict: Error, Sendable, Equatable, Codable, CustomStringConvertible {
    /// `region`, `question` or `image` (a burned-in flag).
    public var noun: String
    public var id: Int64
    /// The version the caller saw, and the row's version now.
    public var expectedVersion: Int
    public var version: Int
    /// The row's status (or flag) now, and who set it when.
    public var status: String?
    public var reviewedBy: String?
    public var reviewedAt: String?

    public init(
        noun: String, id: Int64, expectedVersion: Int, version: Int, status: String?, reviewedBy: String?, reviewedAt: String?
    ) {
        self.noun = noun
        self.id = id
        self.expectedVersion = expectedVersion
        self.version = version
        self.status = status
        self.reviewedBy = reviewedBy
        self.reviewedAt = reviewedAt
    }

    public var description: String {
        "\(noun) \(id) was reviewed since you read it (version \(version), not \(expectedVersion)"
            + (reviewedBy.map { ": \(status ?? "-") by \($0)" } ?? "") + (reviewedAt.map { " at \($0)" } ?? "")
            + "): nothing changed"
    }
}
