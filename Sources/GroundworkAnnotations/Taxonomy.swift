import Foundation
import GRDB
import GroundworkCore
import GroundworkStore
import Yams

/// The project's labels, matched by name or synonym, case-insensitively and ignoring
/// surrounding space, underscores and hyphens (`Brain_Tissue`, `brain tissue` and `Brain-Tissue`
/// are one key).
public struct LabelIndex: Sendable {
    private var byKey: [String: Int64] = [:]
    private var names: [Int64: String] = [:]

    /// The normalised matching key of a name.
    public static func key(_ name: String) -> String {
        name.lowercased().replacingOccurrences(of: "_", with: " ").replacingOccurrences(of: "-", with: " ")
            .split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// Loads every label and synonym of the project.
    public init(_ db: Database) throws {
        for label in try LabelRecord.fetchAll(db) {
            add(label)
        }
    }

    /// Adds a label (after inserting it).
    public mutating func add(_ label: LabelRecord) {
        guard let id = label.id else { return }
        names[id] = label.name
        let synonyms = (try? JSONDecoder().decode([String].self, from: Data(label.synonyms.utf8))) ?? []
        for name in [label.name, label.displayName] + synonyms where byKey[Self.key(name)] == nil {
            byKey[Self.key(name)] = id
        }
    }

    /// The label a name or synonym refers to.
    public func id(for name: String) -> Int64? { byKey[Self.key(name)] }

    /// An SQL condition `AND <column> = ?` for a label given by name or synonym, with its argument;
    /// empty when `name` is nil. An unknown label is an error.
    public static func condition(_ db: Database, name: String?, column: String) throws -> (String, StatementArguments) {
        guard let name else { return ("", []) }
        guard let id = try LabelIndex(db).id(for: name) else {
            throw DiagnosticsError(summary: "unknown label '\(name)'", diagnostics: [])
        }
        return ("AND \(column) = ?", [id])
    }

    /// The canonical name of a label.
    public func name(of id: Int64) -> String? { names[id] }
}

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

        enum CodingKeys: String, CodingKey {
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
                try db.execute(
                    sql: "UPDATE label SET parent_id = ? WHERE id = ? AND parent_id IS NULL", arguments: [parentId, id])
            }
        }
        return added
    }
}
