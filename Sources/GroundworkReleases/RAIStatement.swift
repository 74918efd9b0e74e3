import Foundation
import GroundworkAnnotations
import GroundworkCore

/// A release's Responsible-AI statement: what `groundwork release create --rai FILE.yaml` reads
/// (`schemas/release-rai.schema.json`), kept with the release and written into every export's
/// `croissant.json` (Croissant's RAI vocabulary) beside what the project itself knows
/// (de-identification, restricted sources, leakage, review status).
///
/// Every key is optional: a statement that leaves some out is accepted, and the fields left out
/// are listed by `release show` and in the export report (`RAIStatus.missing`).
public struct RAIStatement: Codable, Sendable, Equatable {
    /// One of the dataset's creators (schema.org `Person`).
    public struct Creator: Codable, Sendable, Equatable {
        public var name: String
        public var affiliation: String?
        public var email: String?
        public var url: String?

        public init(name: String, affiliation: String? = nil, email: String? = nil, url: String? = nil) {
            self.name = name
            self.affiliation = affiliation
            self.email = email
            self.url = url
        }

        static let keys: Set<String> = ["name", "affiliation", "email", "url"]
    }

    /// The dataset's name (default: `Groundwork release VERSION`).
    public var name: String?
    /// What the dataset is, for whom.
    public var description: String?
    /// Where the dataset is published.
    public var url: String?
    public var creators: [Creator]?
    /// How to cite the dataset (BibTeX or plain text).
    public var citation: String?
    /// How the images and their reports were collected (`rai:dataCollection`).
    public var dataCollection: String?
    /// How regions and questions were annotated and reviewed (`rai:dataAnnotationProtocol`).
    public var annotationProcess: String?
    /// Who the annotators were: their roles and qualifications (`rai:annotatorDemographics`).
    public var annotators: String?
    /// Known limitations: where the benchmark does not generalise (`rai:dataLimitations`).
    public var limitations: String?
    /// Known biases: populations, sites, devices under- or over-represented (`rai:dataBiases`).
    public var biases: String?
    /// What personal or sensitive information the data may hold, and how it was handled
    /// (`rai:personalSensitiveInformation`).
    public var personalSensitiveInformation: String?
    /// What the dataset is for, and what it must not be used for (`rai:dataUseCases`).
    public var intendedUse: String?

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, description, url, creators, citation
        case dataCollection = "data_collection"
        case annotationProcess = "annotation_process"
        case annotators, limitations, biases
        case personalSensitiveInformation = "personal_sensitive_information"
        case intendedUse = "intended_use"
    }

    /// The fields a complete statement gives, in the file's order (`name` and `url` are optional:
    /// the name defaults to the release's, and a local benchmark may have no address yet).
    public static let expectedFields: [String] = [
        "description", "creators", "citation", "data_collection", "annotation_process", "annotators", "limitations",
        "biases", "personal_sensitive_information", "intended_use",
    ]

    /// The expected fields this statement leaves out (or leaves empty).
    public var missing: [String] {
        let given: [String: Bool] = [
            "description": description != nil, "creators": !(creators ?? []).isEmpty, "citation": citation != nil,
            "data_collection": dataCollection != nil, "annotation_process": annotationProcess != nil,
            "annotators": annotators != nil, "limitations": limitations != nil, "biases": biases != nil,
            "personal_sensitive_information": personalSensitiveInformation != nil, "intended_use": intendedUse != nil,
        ]
        return Self.expectedFields.filter { given[$0] != true }
    }

    /// Reads a statement from YAML text. Every problem is reported at once, located by line and
    /// column: unknown keys (a misspelt key would otherwise be silently dropped), values of the
    /// wrong type, empty texts, creators without a name.
    public static func parse(yaml text: String, file: String) throws -> RAIStatement {
        let summary = "\(file): not an RAI statement (see schemas/release-rai.schema.json)"
        var problems: [Diagnostic] = []
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        let keys = YAMLDocument.keys(text: text)
        for key in keys {
            let isCreator = key.parent.hasPrefix("/creators/") && key.parent.split(separator: "/").count == 2
            let allowed: Set<String>? = key.parent.isEmpty ? known : isCreator ? Creator.keys : nil
            if let allowed, !allowed.contains(key.name) {
                problems.append(
                    Diagnostic(
                        .error, file: file, location: .line(key.line, column: key.column), code: "unknown_key",
                        message:
                            "at \(key.parent)/\(key.name): unknown key '\(key.name)' (keys: \(allowed.sorted().joined(separator: ", ")))"
                    ))
            }
        }
        let statement: RAIStatement
        do {
            statement = try YAMLDocument.decode(RAIStatement.self, text: text, file: file, summary: summary)
        } catch {
            throw DiagnosticsError(summary: summary, diagnostics: problems + error.diagnostics)
        }
        func located(_ pointer: String) -> SourceLocation {
            let parts = pointer.split(separator: "/", omittingEmptySubsequences: false)
            let parent = parts.dropLast().joined(separator: "/")
            guard let key = keys.first(where: { $0.parent == parent && $0.name == parts.last.map(String.init) }) else {
                return .jsonPointer(pointer)
            }
            return .line(key.line, column: key.column)
        }
        func checkText(_ value: String?, _ pointer: String) {
            guard let value, value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return }
            problems.append(
                Diagnostic(
                    .error, file: file, location: located(pointer), code: "empty_value",
                    message: "at \(pointer): the text is empty (leave the key out if there is nothing to say)"))
        }
        let texts: [(String?, CodingKeys)] = [
            (statement.name, .name), (statement.description, .description), (statement.url, .url),
            (statement.citation, .citation), (statement.dataCollection, .dataCollection),
            (statement.annotationProcess, .annotationProcess), (statement.annotators, .annotators),
            (statement.limitations, .limitations), (statement.biases, .biases),
            (statement.personalSensitiveInformation, .personalSensitiveInformation), (statement.intendedUse, .intendedUse),
        ]
        for (value, key) in texts { checkText(value, "/\(key.rawValue)") }
        for (index, creator) in (statement.creators ?? []).enumerated() {
            checkText(creator.name, "/creators/\(index)/name")
            checkText(creator.affiliation, "/creators/\(index)/affiliation")
            checkText(creator.email, "/creators/\(index)/email")
            checkText(creator.url, "/creators/\(index)/url")
        }
        if let creators = statement.creators, creators.isEmpty {
            problems.append(
                Diagnostic(
                    .error, file: file, location: located("/creators"), code: "empty_value",
                    message: "at /creators: the list is empty (leave the key out if there is nobody to name)"))
        }
        if !problems.isEmpty {
            problems.sort { ($0.location.lineNumber ?? 0) < ($1.location.lineNumber ?? 0) }
            throw DiagnosticsError(summary: summary, diagnostics: problems)
        }
        return statement
    }

    /// Reads a statement from a YAML file.
    public static func read(file: String) throws -> RAIStatement {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.readAll(file)
        } catch {
            throw DiagnosticsError(
                summary: "cannot read the RAI statement",
                diagnostics: [Diagnostic(.error, file: file, code: "unreadable", message: "\(error)")])
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw DiagnosticsError(
                summary: "\(file): not an RAI statement",
                diagnostics: [Diagnostic(.error, file: file, code: "encoding", message: "the file is not UTF-8 text")])
        }
        return try parse(yaml: text, file: file)
    }
}

/// What a release records beside its content for its Croissant metadata (the v8 column
/// `release.rai`, as JSON): the RAI statement if one was given, and the citation of every
/// released source as recorded when the release was cut. Not part of the content hash.
public struct ReleaseRAIRecord: Codable, Sendable, Equatable {
    /// One source's citation, frozen with the release.
    public struct SourceCitation: Codable, Sendable, Equatable {
        public var source: String
        public var citation: String
    }

    public var statement: RAIStatement?
    public var sourceCitations: [SourceCitation]

    enum CodingKeys: String, CodingKey {
        case statement
        case sourceCitations = "source_citations"
    }

    /// The record as stored: JSON with sorted keys.
    func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The record stored in a release row (nil for a release cut before v8, which has none).
    static func decode(_ text: String?) throws -> ReleaseRAIRecord? {
        guard let text else { return nil }
        return try JSONDecoder().decode(ReleaseRAIRecord.self, from: Data(text.utf8))
    }
}

/// Whether a release has an RAI statement, and which of its expected fields are missing.
public struct RAIStatus: Codable, Sendable, Equatable {
    /// True when the release was cut with `--rai FILE`.
    public var provided: Bool
    /// The expected fields that the statement leaves out (every one when there is no statement).
    public var missing: [String]

    public init(provided: Bool, missing: [String]) {
        self.provided = provided
        self.missing = missing
    }

    init(_ statement: RAIStatement?) {
        provided = statement != nil
        missing = statement?.missing ?? RAIStatement.expectedFields
    }
}

extension SourceLocation {
    /// The line of a location given by line, if it is one.
    var lineNumber: Int? {
        if case .line(let line, _) = self { return line }
        return nil
    }
}
