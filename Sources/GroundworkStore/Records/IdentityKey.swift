import Crypto
import Foundation

/// Short, stable identity keys: the first 8 bytes of a SHA-256, as a signed 64-bit integer
/// (a collision needs ~2^32 entries on one image; unique indexes on them stay small and fast).
public enum IdentityKey {
    /// The key of a text.
    public static func of(_ text: String) -> Int64 {
        var text = text
        let digest = text.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
        return digest.withUnsafeBytes { bytes in
            Int64(bitPattern: bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        }
    }

    /// A question's identity on its image: its text, answer and template.
    public static func question(_ question: String, answer: String, template: String?) -> Int64 {
        of(question + "\u{1F}" + answer + "\u{1F}" + (template ?? ""))
    }
}
