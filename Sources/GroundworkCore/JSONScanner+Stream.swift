#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// The scanner's streaming side: reading an array or object member by member.
extension JSONScanner {
    // MARK: - Streaming

    /// Whether a value may be read now (the top-level value, or the member or element announced
    /// by `nextKey()`/`nextElement()`), else a usage error.
    func checkValueExpected(_ operation: String) throws(JSONSyntaxError) {
        if depth == 0 {
            guard !rootTaken else { throw error("\(operation): the top-level value has already been read", at: pos) }
        } else if !frames.base[depth - 1].pending {
            let advance = frames.base[depth - 1].isArray ? "nextElement()" : "nextKey()"
            throw error("\(operation): no value to read here; call \(advance) first", at: pos)
        }
    }

    mutating func takeValue() {
        if depth == 0 {
            rootTaken = true
        } else {
            frames.base[depth - 1].pending = false
        }
    }

    /// The kind of the next value, without consuming it.
    mutating func streamPeekKind() throws(JSONSyntaxError) -> JSONKind {
        try checkValueExpected("peekKind()")
        guard let byte = try peekByte() else { throw endOfInput("a value") }
        guard let kind = Self.kind(of: byte) else { throw notAValue(at: pos) }
        return kind
    }

    static func kind(of byte: UInt8) -> JSONKind? {
        switch byte {
        case UInt8(ascii: "{"): .object
        case UInt8(ascii: "["): .array
        case UInt8(ascii: "\""): .string
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): .number
        case UInt8(ascii: "t"), UInt8(ascii: "f"): .bool
        case UInt8(ascii: "n"): .null
        default: nil
        }
    }

    /// Enters the object or array that must come next.
    mutating func streamBegin(array: Bool) throws(JSONSyntaxError) {
        let operation = array ? "beginArray()" : "beginObject()"
        try checkValueExpected(operation)
        guard let byte = try peekByte() else { throw endOfInput(array ? "an array" : "an object") }
        guard byte == (array ? UInt8(ascii: "[") : UInt8(ascii: "{")) else {
            guard let kind = Self.kind(of: byte) else { throw notAValue(at: pos) }
            let found = kind == .array || kind == .object ? "an \(kind.rawValue)" : "a \(kind.rawValue)"
            throw error("expected \(array ? "an array" : "an object"), found \(found)", at: pos)
        }
        takeValue()
        try push(isArray: array)
    }

    /// The innermost frame, which must be an array (or an object), else a usage error.
    func innermost(array: Bool, _ operation: String) throws(JSONSyntaxError) -> Int {
        guard depth > 0, frames.base[depth - 1].isArray == array else {
            throw error("\(operation) called outside \(array ? "an array" : "an object")", at: pos)
        }
        return depth - 1
    }

    /// The next member's key in the innermost object (skipping the previous member's value if it
    /// was not read), or nil after its `}`.
    mutating func streamNextKey() throws(JSONSyntaxError) -> String? {
        let top = try innermost(array: false, "nextKey()")
        if frames.base[top].pending {
            frames.base[top].pending = false
            try skipAnyValue()
        }
        guard let key = try nextKeyInFrame(top) else { return nil }
        frames.base[top].pending = true
        return key
    }

    /// Whether another element follows in the innermost array (skipping the previous element if it
    /// was not read); false after its `]`.
    mutating func streamNextElement() throws(JSONSyntaxError) -> Bool {
        let top = try innermost(array: true, "nextElement()")
        if frames.base[top].pending {
            frames.base[top].pending = false
            try skipAnyValue()
        }
        guard try nextElementInFrame(top) else { return false }
        frames.base[top].pending = true
        return true
    }

    /// Reads and builds the next value.
    mutating func streamReadValue() throws(JSONSyntaxError) -> JSONValue {
        try checkValueExpected("readValue()")
        takeValue()
        return try parseValue()
    }

    /// Skips the next value.
    mutating func streamSkipValue() throws(JSONSyntaxError) {
        try checkValueExpected("skipValue()")
        takeValue()
        try skipAnyValue()
    }

    /// Skips whatever is left of the document (validating it) and checks that only whitespace follows.
    mutating func streamFinish() throws(JSONSyntaxError) {
        if !rootTaken {
            rootTaken = true
            try skipAnyValue()
        }
        while depth > 0 {
            if frames.base[depth - 1].isArray {
                while try streamNextElement() {}
            } else {
                while try streamNextKey() != nil {}
            }
        }
        try expectEnd()
    }
}
