import GroundworkCore
import Yams

/// Decoding a whole YAML file (a taxonomy, question templates) with every problem located by line
/// and column: a syntax error where the YAML parser stopped, a value of the wrong shape or a
/// missing key where that value (or its mapping) starts, with its JSON pointer in the message.
public enum YAMLDocument {
    public static func decode<T: Decodable>(_ type: T.Type, text: String, file: String, summary: String) throws(DiagnosticsError)
        -> T
    {
        func fail(_ location: SourceLocation, _ code: String, _ message: String) -> DiagnosticsError {
            DiagnosticsError(
                summary: summary, diagnostics: [Diagnostic(.error, file: file, location: location, code: code, message: message)])
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            let (location, message) = describe(error)
            throw fail(location, "yaml", message)
        } catch {
            throw fail(.file, "yaml", "\(error)")
        }
        guard let root else { throw fail(.line(1, column: 1), "empty", "the file holds no YAML document") }
        do {
            return try YAMLDecoder().decode(T.self, from: root)
        } catch let error as DecodingError {
            let pointer = error.jsonPointer()
            let mark = deepestMark(of: error, in: root)
            let location: SourceLocation = mark.map { .line($0.line, column: $0.column) } ?? .jsonPointer(pointer)
            var message = error.readableMessage()
            if case .keyNotFound(let key, _) = error { message = "missing key '\(key.stringValue)'" }
            throw fail(location, "invalid_value", "at \(pointer.isEmpty ? "/" : pointer): \(message)")
        } catch {
            throw fail(.file, "yaml", "\(error)")
        }
    }

    /// The place and message of a YAML syntax error.
    static func describe(_ error: YamlError) -> (SourceLocation, String) {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let while_ = context.map { " (\($0.text) at line \($0.mark.line), column \($0.mark.column))" } ?? ""
            return (.line(mark.line, column: mark.column), problem + while_)
        case .reader(let problem, let offset, _, let yaml):
            guard let offset else { return (.file, problem) }
            let prefix = yaml.utf8.prefix(offset)
            let line = prefix.reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
            let column =
                String(
                    decoding: prefix.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).last ?? [],
                    as: UTF8.self
                )
                .unicodeScalars.count + 1
            return (.line(line, column: column), problem)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return (
                .line(context.mark.line, column: context.mark.column),
                "key(s) \(duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")) given twice in one mapping"
            )
        default:
            return (.file, "\(error)")
        }
    }

    /// Where the value at the error's coding path starts (or the deepest value of that path present).
    static func deepestMark(of error: DecodingError, in root: Node) -> Mark? {
        let path: [any CodingKey]
        switch error {
        case .keyNotFound(_, let context), .typeMismatch(_, let context), .valueNotFound(_, let context),
            .dataCorrupted(let context):
            path = context.codingPath
        @unknown default: path = []
        }
        var node = root
        for key in path {
            var next: Node?
            switch node {
            case .sequence(let sequence):
                if let index = key.intValue, index >= 0, index < sequence.count { next = Array(sequence)[index] }
            case .mapping(let mapping):
                next = mapping.first { $0.key.string == key.stringValue }?.value
            default: break
            }
            guard let next else { break }
            node = next
        }
        return node.mark
    }

    /// One key of a mapping in a YAML document: the JSON pointer of its mapping, the key, and
    /// where the key is written (1-based line and column).
    public struct Key: Sendable, Equatable {
        public var parent: String
        public var name: String
        public var line: Int
        public var column: Int
    }

    /// Every mapping key of a document, depth first in document order (for checking keys that a
    /// decoder would ignore); empty when the text is not YAML (`decode` reports that).
    public static func keys(text: String) -> [Key] {
        guard let root = try? Yams.compose(yaml: text) else { return [] }
        var keys: [Key] = []
        func visit(_ node: Node, _ pointer: String) {
            switch node {
            case .mapping(let mapping):
                for (key, value) in mapping {
                    let name = key.string ?? "\(key)"
                    keys.append(Key(parent: pointer, name: name, line: key.mark?.line ?? 0, column: key.mark?.column ?? 0))
                    visit(value, pointer + "/" + name)
                }
            case .sequence(let sequence):
                for (index, element) in sequence.enumerated() { visit(element, pointer + "/\(index)") }
            default: break
            }
        }
        visit(root, "")
        return keys
    }
}
