/// A parsed JSON value.
///
/// Objects keep their members in document order; a parsed object never has two members with
/// the same key (a duplicate key is a syntax error, reported with its pointer). Numbers are
/// 64-bit floats: integers are exact up to 2^53.
///
/// Equality is JSON equality: objects are equal when they have the same keys with equal values,
/// in any order; numbers compare as `Double`s (so `-0` equals `0`).
public enum JSONValue: Sendable {
    /// `null`
    case null
    /// `true` or `false`
    case bool(Bool)
    /// A number, correctly rounded to the nearest `Double`.
    case number(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object: its members in document order.
    case object([(key: String, value: JSONValue)])

    /// The member named `key` of an object; nil if this is not an object or has no such member.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        for member in members where member.key == key { return member.value }
        return nil
    }

    /// The element at `index` of an array; nil if this is not an array or the index is out of range.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// The string, if this is a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The number, if this is a number.
    public var doubleValue: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// The number as an `Int`, if this is a number that is integral and fits in an `Int`.
    public var intValue: Int? {
        if case .number(let value) = self { return Int(exactly: value) }
        return nil
    }

    /// The Boolean, if this is `true` or `false`.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The members in document order, if this is an object.
    public var objectValue: [(key: String, value: JSONValue)]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// Whether this is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The kind of this value.
    public var kind: JSONKind {
        switch self {
        case .null: .null
        case .bool: .bool
        case .number: .number
        case .string: .string
        case .array: .array
        case .object: .object
        }
    }
}

// MARK: - Parsing

extension JSONValue {
    /// Parses one complete JSON text (for example one JSON Lines line).
    ///
    /// Strict RFC 8259: no comments, trailing commas, `NaN`/`Infinity`, leading zeros, unescaped
    /// control characters, invalid escapes, lone surrogates or invalid UTF-8. A UTF-8 byte-order
    /// mark at the very start is skipped. Only whitespace may follow the value. Nesting deeper than
    /// 512 arrays and objects, duplicate keys and numbers beyond the `Double` range are errors.
    ///
    /// - Parameters:
    ///   - bytes: UTF-8 text. Contiguous collections (`[UInt8]`, `ArraySlice`, `Data`,
    ///     `UnsafeBufferPointer`) are parsed in place, without a copy.
    ///   - line: the line number of the text's first line, for error places.
    /// - Throws: `JSONSyntaxError` with the line, column and pointer of the first problem.
    public static func parse(_ bytes: some Collection<UInt8>, line: Int = 1) throws(JSONSyntaxError) -> JSONValue {
        let result = bytes.withContiguousStorageIfAvailable { buffer in parseResult(buffer, line: line) }
        switch result ?? Array(bytes).withUnsafeBufferPointer({ parseResult($0, line: line) }) {
        case .success(let value): return value
        case .failure(let error): throw error
        }
    }

    /// Parses a complete text held in `buffer`; never throws, so it can run inside closures.
    static func parseResult(_ buffer: UnsafeBufferPointer<UInt8>, line: Int) -> Result<JSONValue, JSONSyntaxError> {
        var scanner = JSONScanner(borrowing: buffer, line: line)
        do {
            let value = try scanner.readDocument()
            return .success(value)
        } catch {
            return .failure(error)
        }
    }
}

// MARK: - Equality

extension JSONValue: Equatable {
    /// JSON equality: objects compare as unordered sets of members, numbers as `Double`s.
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)): return membersEqual(a, b)
        default: return false
        }
    }

    private static func membersEqual(
        _ a: [(key: String, value: JSONValue)], _ b: [(key: String, value: JSONValue)]
    ) -> Bool {
        guard a.count == b.count else { return false }
        // Same order is the common case: compare pairwise first.
        if zip(a, b).allSatisfy({ $0.key == $1.key && $0.value == $1.value }) { return true }
        if a.count <= 16 {
            for member in a {
                let matches = b.filter { $0.key == member.key }
                guard matches.count == 1, matches[0].value == member.value else { return false }
            }
            return Set(a.map(\.key)).count == a.count
        }
        var lookup: [String: JSONValue] = [:]
        lookup.reserveCapacity(b.count)
        for member in b {
            guard lookup.updateValue(member.value, forKey: member.key) == nil else { return false }
        }
        var seen = Set<String>()
        for member in a {
            guard seen.insert(member.key).inserted, let other = lookup[member.key], other == member.value else {
                return false
            }
        }
        return true
    }
}

// MARK: - Literals

extension JSONValue: ExpressibleByNilLiteral {
    /// `nil` is JSON `null`.
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue: ExpressibleByBooleanLiteral {
    /// A Boolean literal.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JSONValue: ExpressibleByIntegerLiteral {
    /// An integer literal, as a number.
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
}

extension JSONValue: ExpressibleByFloatLiteral {
    /// A floating-point literal, as a number.
    public init(floatLiteral value: Double) { self = .number(value) }
}

extension JSONValue: ExpressibleByStringLiteral {
    /// A string literal.
    public init(stringLiteral value: String) { self = .string(value) }
}

extension JSONValue: ExpressibleByArrayLiteral {
    /// An array literal.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
}

extension JSONValue: ExpressibleByDictionaryLiteral {
    /// An object literal; members keep the literal's order.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(elements.map { (key: $0.0, value: $0.1) })
    }
}

// MARK: - Canonical text

extension JSONValue: CustomStringConvertible {
    /// The canonical text (see `canonicalText()`).
    public var description: String { canonicalText() }

    /// Serialises compactly with object keys sorted, as a canonical form for comparing and hashing.
    ///
    /// - No whitespace; members sorted by key in Unicode code point order (as Python's
    ///   `json.dumps(…, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`).
    /// - Strings escape only `"`, `\` and control characters (`\b \f \n \r \t`, others as
    ///   `\u00xx`); everything else is written as UTF-8.
    /// - Integral numbers below 10^16 in magnitude are written as integers (`3`, not `3.0`; `-0`
    ///   as `0`); others in the shortest form that reads back to the same `Double`, as Python's
    ///   `repr` does (`0.1`, `1e-05`, `1e+16`). Non-finite numbers, which JSON cannot express, are
    ///   written as `null`.
    public func canonicalText() -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        JSONValue.writeCanonical(self, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private static func writeCanonical(_ value: JSONValue, to out: inout [UInt8]) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let flag): out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number): writeNumber(number, to: &out)
        case .string(let string): writeString(string, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                writeCanonical(element, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            // Writers that build their objects in key order skip the sort.
            let inOrder = zip(members, members.dropFirst()).allSatisfy { !$1.key.utf8.lexicographicallyPrecedes($0.key.utf8) }
            let sorted = inOrder ? members : members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            for (index, member) in sorted.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                writeString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                writeCanonical(member.value, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func writeNumber(_ number: Double, to out: inout [UInt8]) {
        guard number.isFinite else {
            out.append(contentsOf: "null".utf8)
            return
        }
        if number.rounded(.towardZero) == number, number.magnitude < 1e16 {
            out.append(contentsOf: String(Int64(number)).utf8)
        } else {
            out.append(contentsOf: number.description.utf8)
        }
    }

    private static func writeString(_ string: String, to out: inout [UInt8]) {
        // Most strings need no escape: copy them whole.
        let plain = string.utf8.withContiguousStorageIfAvailable { bytes in
            !bytes.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
        }
        if plain == true {
            out.append(UInt8(ascii: "\""))
            out.append(contentsOf: string.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        out.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
