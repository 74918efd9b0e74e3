import GRDB
import GroundworkStore

/// A source's release policy: its licence and whether its pixels may leave the project.
///
/// A restricted source (for example data derived from MIMIC-CXR, whose licence forbids
/// redistribution) is exported by reference only: paths and hashes, never pixels.
public struct SourcePolicy: Codable, Sendable, Equatable {
    /// The source's name, as in `image.source`.
    public var name: String
    /// The SPDX licence (or a licence name) that covers the source's images that carry none.
    public var license: String?
    /// True when the source's pixels must not be exported.
    public var restricted: Bool
    /// How to cite the source.
    public var citation: String?
    /// Images of the source in the project.
    public var images: Int

    /// Every source that has a policy or images, by name.
    public static func list(_ project: Project) throws -> [SourcePolicy] {
        try project.database.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT names.name, p.license, COALESCE(p.restricted, 0) AS restricted, p.citation,
                           (SELECT COUNT(*) FROM image WHERE image.source = names.name) AS images
                    FROM (SELECT name FROM source_policy UNION SELECT DISTINCT source FROM image WHERE source IS NOT NULL) names
                    LEFT JOIN source_policy p ON p.name = names.name
                    ORDER BY names.name
                    """
            ).map {
                SourcePolicy(
                    name: $0["name"], license: $0["license"], restricted: $0["restricted"], citation: $0["citation"],
                    images: $0["images"])
            }
        }
    }

    /// Sets a source's policy; nil arguments keep what is recorded.
    public static func set(
        _ project: Project, name: String, license: String?, restricted: Bool?, citation: String?
    ) throws -> SourcePolicy {
        try project.database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO source_policy (name, license, restricted, citation) VALUES (?, ?, COALESCE(?, 0), ?)
                    ON CONFLICT(name) DO UPDATE SET
                        license = COALESCE(excluded.license, license),
                        restricted = COALESCE(?, restricted),
                        citation = COALESCE(excluded.citation, citation)
                    """,
                arguments: [name, license, restricted, citation, restricted])
        }
        return try list(project).first { $0.name == name }!
    }
}
