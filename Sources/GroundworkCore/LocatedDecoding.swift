import Foundation

/// Decoding a whole JSON document with every problem located, as the readers locate theirs.
///
/// The text is first parsed by Groundwork's own scanner, so malformed JSON is reported with its
/// line, column and JSON pointer; a document that parses but does not have the expected shape
/// (a missing member, a value of the wrong type) is reported with the JSON pointer of the value.
public enum JSONDocument {
    /// Decodes `T` from a JSON file's bytes.
    /// - Parameters:
    ///   - file: the file as the user named it, for diagnostics.
    ///   - summary: the headline of the error, e.g. "x/manifest.json is not a valid manifest".
    ///   - snakeCaseKeys: the members are snake_case (decoded with `.convertFromSnakeCase`); the
    ///     pointers then name the members as the file spells them.
    public static func decode<T: Decodable>(
        _ type: T.Type, from bytes: [UInt8], file: String, summary: String, snakeCaseKeys: Bool = false
    ) throws(DiagnosticsError) -> T {
        do {
            _ = try JSONValue.parse(bytes)
        } catch {
            throw DiagnosticsError(summary: summary, diagnostics: [error.diagnostic(file: file)])
        }
        let decoder = JSONDecoder()
        if snakeCaseKeys { decoder.keyDecodingStrategy = .convertFromSnakeCase }
        do {
            return try decoder.decode(T.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw DiagnosticsError(
                summary: summary,
                diagnostics: [
                    Diagnostic(
                        .error, file: file, location: .jsonPointer(error.jsonPointer(snakeCaseKeys: snakeCaseKeys)),
                        code: "invalid_value", message: error.readableMessage(snakeCaseKeys: snakeCaseKeys))
                ])
        } catch {
            throw DiagnosticsError(
                summary: summary, diagnostics: [Diagnostic(.error, file: file, code: "invalid_value", message: "\(error)")])
        }
    }
}

extension DecodingError {
    /// The coding path of the value at fault, as an RFC 6901 JSON pointer (`/files/3/sha256`); for a
    /// missing member, the pointer of the member that is missing. With `snakeCaseKeys`, keys are
    /// written as a `.convertFromSnakeCase` document spells them (`rootHash` as `root_hash`).
    public func jsonPointer(snakeCaseKeys: Bool = false) -> String {
        var path: [any CodingKey]
        switch self {
        case .keyNotFound(let key, let context): path = context.codingPath + [key]
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            path = context.codingPath
        @unknown default: path = []
        }
        return path.map { key in
            if let index = key.intValue { return "/\(index)" }
            let name = snakeCaseKeys ? Self.snakeCase(key.stringValue) : key.stringValue
            return "/" + name.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
        }.joined()
    }

    /// What is wrong, without the coding path (the location gives it); with `snakeCaseKeys`, a
    /// missing member is named as the file would spell it.
    public func readableMessage(snakeCaseKeys: Bool = false) -> String {
        switch self {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return context.debugDescription
        case .keyNotFound(let key, _):
            return "missing member '\(snakeCaseKeys ? Self.snakeCase(key.stringValue) : key.stringValue)'"
        @unknown default: return "\(self)"
        }
    }

    /// `rootHash` → `root_hash` (the inverse of `.convertFromSnakeCase` for names it produces).
    static func snakeCase(_ name: String) -> String {
        var out = ""
        for character in name {
            if character.isUppercase {
                if !out.isEmpty { out.append("_") }
                out += character.lowercased()
            } else {
                out.append(character)
            }
        }
        return out
    }
}
