#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// The scanner's document side: frames, materialising values, skipping them, whole documents.
extension JSONScanner {
    // MARK: - Frames

    mutating func push(isArray: Bool) throws(JSONSyntaxError) {
        guard depth < Self.maxDepth else {
            throw error("nesting deeper than \(Self.maxDepth) arrays and objects", at: pos)
        }
        if depth == frames.count { frames.push(JSONFrame()) }
        let frame = frames.base + depth
        frame.pointee.isArray = isArray
        frame.pointee.count = 0
        frame.pointee.hasMember = false
        frame.pointee.pending = false
        frame.pointee.keys.removeAll()
        depth += 1
        pos += 1
    }

    // MARK: - Materialising

    /// Reads the value at the current place (after whitespace) and builds it.
    mutating func parseValue() throws(JSONSyntaxError) -> JSONValue {
        guard let byte = try peekByte() else { throw endOfInput("a value") }
        switch byte {
        case UInt8(ascii: "\""): return .string(try readString())
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try readNumber(convert: true))
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"): return try readLiteral()
        default: throw notAValue(at: pos)
        }
    }

    mutating func parseObject() throws(JSONSyntaxError) -> JSONValue {
        try push(isArray: false)
        let top = depth - 1
        guard var byte = try peekByte() else { throw endOfInput("a member key or '}'", containerOnly: true) }
        if byte == UInt8(ascii: "}") {
            pos += 1
            depth -= 1
            return .object([])
        }
        let first = memberStack.count
        var keySet: Set<String> = []
        while true {
            guard byte == UInt8(ascii: "\"") else {
                throw error("expected a member key in double quotes, found \(describe(at: pos))", at: pos, containerOnly: true)
            }
            let keyLine = line
            let keyColumn = column(at: pos)
            let key = try readString()
            frames.base[top].key = key
            frames.base[top].hasMember = true
            frames.base[top].count += 1
            if isDuplicate(key, first: first, set: &keySet) {
                throw JSONSyntaxError(line: keyLine, column: keyColumn, pointer: pointer(), message: "duplicate key \"\(key)\"")
            }
            guard let colon = try peekByte(), colon == UInt8(ascii: ":") else {
                throw error("expected ':' after the key, found \(describe(at: pos))", at: pos)
            }
            pos += 1
            let value = try parseValue()
            memberStack.push((key: key, value: value))
            guard let next = try peekByte() else { throw endOfInput("',' or '}'", containerOnly: true) }
            if next == UInt8(ascii: ",") {
                pos += 1
                frames.base[top].hasMember = false
                guard let after = try peekByte() else { throw endOfInput("a member key", containerOnly: true) }
                if after == UInt8(ascii: "}") { throw error("trailing comma before '}'", at: pos, containerOnly: true) }
                byte = after
                continue
            }
            if next == UInt8(ascii: "}") {
                pos += 1
                break
            }
            throw error(
                "expected ',' or '}' after an object member, found \(describe(at: pos))", at: pos, containerOnly: true)
        }
        depth -= 1
        return .object(memberStack.popArray(from: first))
    }

    /// Whether `key` is already among the members of the object being built (from `first` on).
    @inline(__always)
    func isDuplicate(_ key: String, first: Int, set: inout Set<String>) -> Bool {
        let count = memberStack.count - first
        if count < 16 {
            var member = memberStack.base + first
            let stop = memberStack.base + memberStack.count
            while member < stop {
                if member.pointee.key == key { return true }
                member += 1
            }
            return false
        }
        if set.isEmpty {
            set.reserveCapacity(count * 2)
            for index in first..<memberStack.count { set.insert(memberStack.base[index].key) }
        }
        return !set.insert(key).inserted
    }

    mutating func parseArray() throws(JSONSyntaxError) -> JSONValue {
        try push(isArray: true)
        let top = depth - 1
        guard let byte = try peekByte() else { throw endOfInput("a value or ']'", containerOnly: true) }
        if byte == UInt8(ascii: "]") {
            pos += 1
            depth -= 1
            return .array([])
        }
        let first = elementStack.count
        while true {
            frames.base[top].count += 1
            frames.base[top].hasMember = true
            let value = try parseValue()
            elementStack.push(value)
            guard let next = try peekByte() else { throw endOfInput("',' or ']'", containerOnly: true) }
            if next == UInt8(ascii: ",") {
                pos += 1
                if let after = try peekByte(), after == UInt8(ascii: "]") {
                    throw error("trailing comma before ']'", at: pos, containerOnly: true)
                }
                continue
            }
            if next == UInt8(ascii: "]") {
                pos += 1
                break
            }
            throw error(
                "expected ',' or ']' after an array element, found \(describe(at: pos))", at: pos, containerOnly: true)
        }
        depth -= 1
        return .array(elementStack.popArray(from: first))
    }

    // MARK: - Skipping

    /// Validates the value at the current place without building it (memory O(depth)).
    mutating func skipAnyValue() throws(JSONSyntaxError) {
        guard let byte = try peekByte() else { throw endOfInput("a value") }
        switch byte {
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "{"): try skipObject()
        case UInt8(ascii: "["): try skipArray()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try readNumber(convert: false)
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"): _ = try readLiteral()
        default: throw notAValue(at: pos)
        }
    }

    mutating func skipObject() throws(JSONSyntaxError) {
        try push(isArray: false)
        let top = depth - 1
        while try nextKeyInFrame(top) != nil {
            try skipAnyValue()
        }
    }

    mutating func skipArray() throws(JSONSyntaxError) {
        try push(isArray: true)
        let top = depth - 1
        while try nextElementInFrame(top) {
            try skipAnyValue()
        }
    }

    /// Moves to the next member of the object `top` (the innermost frame): returns its key with
    /// `pos` after the colon, or nil after consuming `}` (the frame is then closed).
    mutating func nextKeyInFrame(_ top: Int) throws(JSONSyntaxError) -> String? {
        guard var byte = try peekByte() else {
            throw endOfInput(frames.base[top].count == 0 ? "a member key or '}'" : "',' or '}'", containerOnly: true)
        }
        if frames.base[top].count > 0 {
            if byte == UInt8(ascii: ",") {
                pos += 1
                frames.base[top].hasMember = false
                guard let after = try peekByte() else { throw endOfInput("a member key", containerOnly: true) }
                if after == UInt8(ascii: "}") { throw error("trailing comma before '}'", at: pos, containerOnly: true) }
                byte = after
            } else if byte == UInt8(ascii: "}") {
                pos += 1
                depth -= 1
                return nil
            } else {
                throw error(
                    "expected ',' or '}' after an object member, found \(describe(at: pos))", at: pos, containerOnly: true)
            }
        } else if byte == UInt8(ascii: "}") {
            pos += 1
            depth -= 1
            return nil
        }
        guard byte == UInt8(ascii: "\"") else {
            throw error("expected a member key in double quotes, found \(describe(at: pos))", at: pos, containerOnly: true)
        }
        let keyLine = line
        let keyColumn = column(at: pos)
        let key = try readString()
        frames.base[top].key = key
        frames.base[top].hasMember = true
        frames.base[top].count += 1
        guard frames.base[top].keys.insert(key) else {
            throw JSONSyntaxError(line: keyLine, column: keyColumn, pointer: pointer(), message: "duplicate key \"\(key)\"")
        }
        guard let colon = try peekByte(), colon == UInt8(ascii: ":") else {
            throw error("expected ':' after the key, found \(describe(at: pos))", at: pos)
        }
        pos += 1
        return key
    }

    /// Moves to the next element of the array `top` (the innermost frame): true if there is one,
    /// false after consuming `]` (the frame is then closed).
    mutating func nextElementInFrame(_ top: Int) throws(JSONSyntaxError) -> Bool {
        guard let byte = try peekByte() else {
            throw endOfInput(frames.base[top].count == 0 ? "a value or ']'" : "',' or ']'", containerOnly: true)
        }
        if frames.base[top].count > 0 {
            if byte == UInt8(ascii: ",") {
                pos += 1
                if let after = try peekByte(), after == UInt8(ascii: "]") {
                    throw error("trailing comma before ']'", at: pos, containerOnly: true)
                }
            } else if byte == UInt8(ascii: "]") {
                pos += 1
                depth -= 1
                return false
            } else {
                throw error(
                    "expected ',' or ']' after an array element, found \(describe(at: pos))", at: pos, containerOnly: true)
            }
        } else if byte == UInt8(ascii: "]") {
            pos += 1
            depth -= 1
            return false
        }
        frames.base[top].count += 1
        frames.base[top].hasMember = true
        return true
    }

    // MARK: - Whole documents

    /// Reads the whole text as one value; only whitespace may follow it.
    mutating func readDocument() throws(JSONSyntaxError) -> JSONValue {
        rootTaken = true
        let value = try parseValue()
        try expectEnd()
        return value
    }

    mutating func expectEnd() throws(JSONSyntaxError) {
        if try peekByte() != nil {
            throw error("unexpected \(describe(at: pos)) after the top-level value", at: pos)
        }
    }
}
