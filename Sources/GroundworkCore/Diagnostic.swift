/// Where in a file a problem was found.
///
/// Every reader reports the finest place it knows: a line (and column) for text formats,
/// a JSON pointer for JSON, an element path for XML, a tag for DICOM.
public enum SourceLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The file as a whole.
    case file
    /// A 1-based line, and optionally a 1-based column.
    case line(Int, column: Int? = nil)
    /// An RFC 6901 JSON pointer, e.g. `/annotations/3/bbox`.
    case jsonPointer(String)
    /// An XML element path, e.g. `annotation/object[2]/bndbox`.
    case xmlElement(String)
    /// A DICOM tag, e.g. `(0028,0010)`.
    case dicomTag(String)
    /// A byte offset into a binary file.
    case byteOffset(Int)

    public var description: String {
        switch self {
        case .file: return ""
        case .line(let line, let column):
            if let column { return "line \(line), column \(column)" }
            return "line \(line)"
        case .jsonPointer(let pointer): return "at \(pointer.isEmpty ? "/" : pointer)"
        case .xmlElement(let path): return "element \(path)"
        case .dicomTag(let tag): return "tag \(tag)"
        case .byteOffset(let offset): return "byte \(offset)"
        }
    }

    private enum CodingKeys: String, CodingKey { case kind, line, column, pointer, element, tag, offset }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .file: try c.encode("file", forKey: .kind)
        case .line(let line, let column):
            try c.encode("line", forKey: .kind)
            try c.encode(line, forKey: .line)
            try c.encodeIfPresent(column, forKey: .column)
        case .jsonPointer(let p):
            try c.encode("json_pointer", forKey: .kind)
            try c.encode(p, forKey: .pointer)
        case .xmlElement(let e):
            try c.encode("xml_element", forKey: .kind)
            try c.encode(e, forKey: .element)
        case .dicomTag(let t):
            try c.encode("dicom_tag", forKey: .kind)
            try c.encode(t, forKey: .tag)
        case .byteOffset(let o):
            try c.encode("byte_offset", forKey: .kind)
            try c.encode(o, forKey: .offset)
        }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(String.self, forKey: .kind) {
        case "line":
            self = .line(try c.decode(Int.self, forKey: .line), column: try c.decodeIfPresent(Int.self, forKey: .column))
        case "json_pointer": self = .jsonPointer(try c.decode(String.self, forKey: .pointer))
        case "xml_element": self = .xmlElement(try c.decode(String.self, forKey: .element))
        case "dicom_tag": self = .dicomTag(try c.decode(String.self, forKey: .tag))
        case "byte_offset": self = .byteOffset(try c.decode(Int.self, forKey: .offset))
        default: self = .file
        }
    }
}

/// How serious a finding is.
public enum Severity: String, Sendable, Codable, Comparable, CaseIterable {
    case info, warning, error

    private var rank: Int {
        switch self {
        case .info: 0
        case .warning: 1
        case .error: 2
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rank < rhs.rank }
}

/// One problem (or note) found in an input: the file, the place in it, and a message a user can act on.
public struct Diagnostic: Sendable, Hashable, Codable, CustomStringConvertible {
    public var severity: Severity
    /// The file the problem is in, as the user named it.
    public var file: String
    public var location: SourceLocation
    /// A short machine-readable code, e.g. `corrupt`, `missing_column`.
    public var code: String
    public var message: String

    public init(
        _ severity: Severity, file: String, location: SourceLocation = .file, code: String, message: String
    ) {
        self.severity = severity
        self.file = file
        self.location = location
        self.code = code
        self.message = message
    }

    /// `file:place: severity: message`, the form compilers use, so editors can jump to it.
    public var description: String {
        let place = location.description
        let prefix = place.isEmpty ? file : "\(file): \(place)"
        return "\(prefix): \(severity.rawValue): \(message)"
    }
}

/// An error that carries every problem found, not just the first.
public struct DiagnosticsError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]
    /// A one-line headline, e.g. "3 files could not be imported".
    public var summary: String

    public init(summary: String, diagnostics: [Diagnostic]) {
        self.summary = summary
        self.diagnostics = diagnostics
    }

    public var description: String {
        ([summary] + diagnostics.map { "  " + $0.description }).joined(separator: "\n")
    }
}

/// Diagnostics about individual items of a large run, kept as a sample: the first `perCode` of
/// each code in full, then one line per code saying how many more there were. Memory stays flat
/// however many items share a problem (a submission scoring a tenth of a million-question
/// release warns about 900,000 missing maps); the full count lives in the run's counts.
public struct DiagnosticSample: Sendable, Equatable {
    /// Diagnostics kept in full, per code.
    public let perCode: Int
    public private(set) var kept: [Diagnostic] = []
    /// How many of each code were kept.
    private var keptByCode: [String: Int] = [:]
    /// Diagnostics beyond `perCode`, by code, with the first one left out (for its severity and file).
    private var more: [String: (count: Int, first: Diagnostic)] = [:]
    private var moreOrder: [String] = []

    /// How many of a code a sample keeps unless told otherwise.
    public static let `default` = 20

    public init(perCode: Int = Self.default) {
        self.perCode = perCode
    }

    /// Every diagnostic added, counted.
    public private(set) var total = 0

    public mutating func add(_ diagnostic: Diagnostic) {
        total += 1
        if keptByCode[diagnostic.code, default: 0] < perCode {
            keptByCode[diagnostic.code, default: 0] += 1
            kept.append(diagnostic)
        } else if let entry = more[diagnostic.code] {
            more[diagnostic.code] = (entry.count + 1, entry.first)
        } else {
            more[diagnostic.code] = (1, diagnostic)
            moreOrder.append(diagnostic.code)
        }
    }

    public mutating func add(contentsOf diagnostics: some Sequence<Diagnostic>) {
        for diagnostic in diagnostics { add(diagnostic) }
    }

    /// The sample: the kept diagnostics in the order they came, then for each code with more, one
    /// diagnostic of that code's severity saying how many more there were.
    public var diagnostics: [Diagnostic] {
        kept
            + moreOrder.map { code in
                let (count, first) = more[code]!
                return Diagnostic(
                    first.severity, file: first.file, code: code,
                    message: "and \(count) more of this kind (\(perCode) shown above)")
            }
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.perCode == b.perCode && a.total == b.total && a.diagnostics == b.diagnostics
    }
}
