import Foundation

/// The JSON style of everything Groundwork prints or writes (reports, manifests, summaries):
/// snake_case keys, sorted, no escaped slashes, indented unless compact.
///
/// Not to be confused with the *canonical text* of a value (``JSONValue/canonicalText()``,
/// `GeometryCheck.canonicalJSON`): the compact, number-normalised form that is stored and hashed.
public enum CanonicalJSON {
    /// An encoder with sorted keys; `pretty` adds indentation.
    public static func encoder(pretty: Bool = true) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting =
            pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }

    /// Encodes a value as a UTF-8 string.
    public static func string<T: Encodable>(_ value: T, pretty: Bool = true) throws -> String {
        String(decoding: try encoder(pretty: pretty).encode(value), as: UTF8.self)
    }
}
