import Foundation
import GRDB
import GroundworkCore
import GroundworkStore
import Yams

/// A label taxonomy file (`annotations/taxonomy/*.yaml`): a list of labels with display names,
/// synonyms, an optional parent (by name) and optional codes.
public struct TaxonomyFile: Codable, Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var name: String
        public var displayName: String?
        public var synonyms: [String]?
        public var parent: String?
        public var category: String?
        public var radlex: String?
        public var snomed: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name, synonyms, parent, category, radlex, snomed
            case displayName = "display_name"
        }

        public init(
            name: String, displayName: String? = nil, synonyms: [String]? = nil, parent: String? = nil, category: String? = nil,
            radlex: String? = nil, snomed: String? = nil
        ) {
            self.name = name
            self.displayName = displayName
            self.synonyms = synonyms
            self.parent = parent
            self.category = category
            self.radlex = radlex
            self.snomed = snomed
        }
    }

    public var labels: [Entry]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case labels
    }

    public init(labels: [Entry]) { self.labels = labels }

    /// Parses a taxonomy YAML file, reporting problems with their line.
    public static func load(path: String) throws(DiagnosticsError) -> TaxonomyFile {
        let text: String
        do {
            text = try FileIO.readText(path)
        } catch {
            throw DiagnosticsError(
                summary: "cannot read the taxonomy",
                diagnostics: [Diagnostic(.error, file: path, code: "unreadable", message: "cannot read: \(error.reason)")])
        }
        let file = try YAMLDocument.decode(TaxonomyFile.self, text: text, file: path, summary: "\(path): not a taxonomy")
        var problems: [Diagnostic] = []
        var seen: Set<String> = []
        for (index, entry) in file.labels.enumerated() {
            if entry.name.trimmingCharacters(in: .whitespaces).isEmpty {
                problems.append(
                    Diagnostic(
                        .error, file: path, location: .jsonPointer("/labels/\(index)/name"), code: "empty_name",
                        message: "a label needs a name"))
            }
            if !seen.insert(LabelIndex.key(entry.name)).inserted {
                problems.append(
                    Diagnostic(
                        .error, file: path, location: .jsonPointer("/labels/\(index)/name"), code: "duplicate_label",
                        message: "'\(entry.name)' is listed twice"))
            }
        }
        for (index, entry) in file.labels.enumerated() {
            if let parent = entry.parent, !seen.contains(LabelIndex.key(parent)) {
                problems.append(
                    Diagnostic(
                        .error, file: path, location: .jsonPointer("/labels/\(index)/parent"), code: "unknown_parent",
                        message: "parent '\(parent)' is not a label of this taxonomy"))
            }
        }
        if !problems.isEmpty {
            throw DiagnosticsError(summary: "\(path): \(problems.count) problem(s)", diagnostics: problems)
        }
        return file
    }

    /// Adds this taxonomy's labels to a project in one transaction (labels already there, by
    /// name, are kept as they are).
    /// - Returns: how many labels were added.
    public func install(into project: Project) throws -> Int {
        try project.database.write { db in try install(into: db) }
    }

    /// Adds one label to a project (`groundwork labels add`); its parent must already be in the
    /// project (else an error naming `--parent`, and nothing changes).
    /// - Returns: 1 when added, 0 when a label of that name was already there.
    public static func add(_ entry: Entry, to project: Project) throws -> Int {
        try project.database.write { db in
            if let parent = entry.parent, try LabelIndex(db).id(for: parent) == nil {
                throw LabelIndex.unknown(parent, option: "--parent")
            }
            return try TaxonomyFile(labels: [entry]).install(into: db)
        }
    }

    /// Adds this taxonomy's labels to a project (labels already there, by name, are kept as they are).
    /// - Returns: how many labels were added.
    @discardableResult
    public func install(into db: Database) throws -> Int {
        var index = try LabelIndex(db)
        var added = 0
        for entry in labels where index.id(for: entry.name) == nil {
            let synonyms = (try? CanonicalJSON.string(entry.synonyms ?? [], pretty: false)) ?? "[]"
            var record = LabelRecord(
                name: entry.name, displayName: entry.displayName ?? entry.name, synonyms: synonyms, category: entry.category,
                radlex: entry.radlex, snomed: entry.snomed)
            try record.insert(db)
            index.add(record)
            added += 1
        }
        for entry in labels {
            if let parent = entry.parent, let id = index.id(for: entry.name), let parentId = index.id(for: parent) {
                try LabelRecord.setParentIfNone(db, id: id, parentId: parentId)
            }
        }
        return added
    }
}
