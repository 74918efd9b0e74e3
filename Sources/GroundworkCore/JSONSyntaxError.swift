/// Malformed JSON, with the place it was found: a line and column, and the JSON pointer
/// (RFC 6901) of the value being read when the problem was met.
///
/// Lines are 1-based. Columns are 1-based and count Unicode scalars (a multi-byte UTF-8
/// character counts once). The pointer is `""` for the top-level value, `/images/1/id` for the
/// `id` member of the second element of the top-level `images` array; `~` and `/` inside keys are
/// written `~0` and `~1`. For a problem between members (a missing comma, a trailing comma) the
/// pointer names the enclosing object or array.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The 1-based line of the problem.
    public var line: Int
    /// The 1-based column of the problem, in Unicode scalars.
    public var column: Int
    /// The RFC 6901 JSON pointer of the value being read (`""` is the whole document).
    public var pointer: String
    /// What is wrong, e.g. `expected ',' or '}' after an object member, found ']'`.
    public var message: String

    /// Creates an error at a place.
    public init(line: Int, column: Int, pointer: String, message: String) {
        self.line = line
        self.column = column
        self.pointer = pointer
        self.message = message
    }

    /// `line:column (at pointer): message`.
    public var description: String {
        "\(line):\(column) (at \(pointer.isEmpty ? "/" : pointer)): \(message)"
    }
}

extension JSONSyntaxError {
    /// The error as a located diagnostic: severity `.error`, code `json_syntax`, location the JSON
    /// pointer, and a message that ends with the line and column (`… (line 3:17)`).
    public func diagnostic(file: String) -> Diagnostic {
        Diagnostic(
            .error, file: file, location: .jsonPointer(pointer), code: "json_syntax",
            message: "\(message) (line \(line):\(column))")
    }
}

/// The kind of a JSON value, as seen from its first character.
public enum JSONKind: String, Sendable {
    /// `{ … }`
    case object
    /// `[ … ]`
    case array
    /// `"…"`
    case string
    /// `-12.5e3` and the like.
    case number
    /// `true` or `false`.
    case bool
    /// `null`.
    case null
}

/// RFC 6901 JSON pointers.
enum JSONPointer {
    /// Appends `/token` to a pointer, escaping `~` as `~0` and `/` as `~1`.
    static func append(_ token: String, to pointer: inout String) {
        pointer.append("/")
        if !token.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) {
            pointer.append(token)
            return
        }
        for scalar in token.unicodeScalars {
            switch scalar {
            case "~": pointer.append("~0")
            case "/": pointer.append("~1")
            default: pointer.unicodeScalars.append(scalar)
            }
        }
    }

    /// A pointer from its unescaped reference tokens.
    static func make(_ tokens: [String]) -> String {
        var pointer = ""
        for token in tokens { append(token, to: &pointer) }
        return pointer
    }
}
