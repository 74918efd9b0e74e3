#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// The scanner's tokens: whitespace, strings, numbers and literals.
extension JSONScanner {
    // MARK: - Whitespace

    /// Skips whitespace and returns the next byte (not consumed), or nil at the end of the input.
    @inline(__always)
    mutating func peekByte() throws(JSONSyntaxError) -> UInt8? {
        if pos < end {
            let byte = base[pos]
            if byte > 0x20 { return byte }
            // One space, as after `,` and `:` in Python's default output.
            if byte == 0x20, pos + 1 < end {
                let next = base[pos + 1]
                if next > 0x20 {
                    pos += 1
                    return next
                }
            }
        }
        return try skipWhitespace()
    }

    mutating func skipWhitespace() throws(JSONSyntaxError) -> UInt8? {
        var i = pos
        while true {
            while i < end {
                let byte = base[i]
                switch byte {
                case 0x20, 0x09, 0x0D:
                    i += 1
                case 0x0A:
                    i += 1
                    line += 1
                    lineStart = i
                    lineContinuations = 0
                default:
                    pos = i
                    return byte
                }
            }
            pos = i
            guard try refill() else { return nil }
            i = pos
        }
    }

    // MARK: - Strings

    /// Reads the string at `pos` (which holds its opening quote), leaving `pos` after it.
    mutating func readString() throws(JSONSyntaxError) -> String {
        var i = pos + 1
        while true {
            let limit = end
            while i < limit {
                let byte = base[i]
                if byte == UInt8(ascii: "\"") {
                    let text = String(decoding: UnsafeBufferPointer(start: base + pos + 1, count: i - pos - 1), as: UTF8.self)
                    pos = i + 1
                    return text
                }
                if byte == UInt8(ascii: "\\") || byte < 0x20 || byte >= 0x80 {
                    return try finishString(from: i, emit: true) ?? ""
                }
                i += 1
            }
            let offset = i - pos
            let more = try refill()
            i = pos + offset
            guard more else { throw unterminatedString(line: line, column: column(at: pos)) }
        }
    }

    /// Validates the string at `pos` without building it.
    mutating func skipString() throws(JSONSyntaxError) {
        var i = pos + 1
        while true {
            let limit = end
            while i < limit {
                let byte = base[i]
                if byte == UInt8(ascii: "\"") {
                    pos = i + 1
                    return
                }
                if byte == UInt8(ascii: "\\") || byte < 0x20 || byte >= 0x80 {
                    _ = try finishString(from: i, emit: false)
                    return
                }
                i += 1
            }
            let offset = i - pos
            let more = try refill()
            i = pos + offset
            guard more else { throw unterminatedString(line: line, column: column(at: pos)) }
        }
    }

    func unterminatedString(line: Int, column: Int) -> JSONSyntaxError {
        JSONSyntaxError(line: line, column: column, pointer: pointer(), message: "unterminated string")
    }

    enum StringStop { case quote, control, end }

    /// The general string path, from `start` (the first byte that is not plain ASCII) on:
    /// escapes, non-ASCII UTF-8 and errors. `pos` holds the opening quote.
    mutating func finishString(from start: Int, emit: Bool) throws(JSONSyntaxError) -> String? {
        // Find where the string stops (closing quote, control character or end of input),
        // keeping all of it in the buffer.
        var i = start
        var stop = StringStop.end
        scan: while true {
            while i < end {
                let byte = base[i]
                if byte == UInt8(ascii: "\"") {
                    stop = .quote
                    break scan
                }
                if byte < 0x20 {
                    stop = .control
                    break scan
                }
                if byte == UInt8(ascii: "\\") {
                    if i + 1 < end {
                        i += 2
                        continue
                    }
                    break
                }
                i += 1
            }
            let offset = i - pos
            let more = try refill()
            i = pos + offset
            if !more {
                i = end
                break
            }
        }
        let stopIndex = i
        let quoteLine = line
        let quoteColumn = column(at: pos)

        // Decode and validate the contents.
        if emit { scratch.removeAll(keepingCapacity: true) }
        var escaped = false
        var j = pos + 1
        var run = j
        while j < stopIndex {
            let byte = base[j]
            if byte < 0x80 {
                if byte != UInt8(ascii: "\\") {
                    j += 1
                    continue
                }
                if emit { scratch.append(contentsOf: UnsafeBufferPointer(start: base + run, count: j - run)) }
                escaped = true
                guard j + 1 < stopIndex else {
                    if stop == .end { throw unterminatedString(line: quoteLine, column: quoteColumn) }
                    throw error("invalid escape: '\\' at the end of the string", at: j)
                }
                let escape = base[j + 1]
                var decoded: UInt8 = 0
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded = escape
                case UInt8(ascii: "b"): decoded = 0x08
                case UInt8(ascii: "f"): decoded = 0x0C
                case UInt8(ascii: "n"): decoded = 0x0A
                case UInt8(ascii: "r"): decoded = 0x0D
                case UInt8(ascii: "t"): decoded = 0x09
                case UInt8(ascii: "u"):
                    let length = try unicodeEscape(
                        at: j, limit: stopIndex, stop: stop, emit: emit, quote: (quoteLine, quoteColumn))
                    j += length
                    run = j
                    continue
                case 0x21...0x7E:
                    throw error("invalid escape '\\\(Character(Unicode.Scalar(escape)))'", at: j)
                default:
                    throw error("invalid escape: '\\' followed by \(describe(at: j + 1))", at: j)
                }
                if emit { scratch.append(decoded) }
                j += 2
                run = j
            } else {
                let length = utf8SequenceLength(at: j, limit: stopIndex)
                if length <= 0 {
                    if length < 0, stop == .end { throw unterminatedString(line: quoteLine, column: quoteColumn) }
                    throw error(
                        "invalid UTF-8: byte 0x\(Self.hex(UInt32(byte), digits: 2)) does not start a valid sequence", at: j)
                }
                lineContinuations += length - 1
                j += length
            }
        }
        switch stop {
        case .end:
            throw unterminatedString(line: quoteLine, column: quoteColumn)
        case .control:
            throw error(
                "unescaped control character U+\(Self.hex(UInt32(base[stopIndex]), digits: 4)) in a string", at: stopIndex)
        case .quote:
            var text: String?
            if emit {
                if escaped {
                    scratch.append(contentsOf: UnsafeBufferPointer(start: base + run, count: stopIndex - run))
                    text = String(decoding: scratch, as: UTF8.self)
                } else {
                    text = String(decoding: UnsafeBufferPointer(start: base + pos + 1, count: stopIndex - pos - 1), as: UTF8.self)
                }
            }
            pos = stopIndex + 1
            return text
        }
    }

    /// Decodes a `\u` escape of four hex digits (or a surrogate pair of two such escapes) at `j`; returns its length in bytes.
    mutating func unicodeEscape(
        at j: Int, limit: Int, stop: StringStop, emit: Bool, quote: (line: Int, column: Int)
    ) throws(JSONSyntaxError) -> Int {
        guard j + 6 <= limit, let high = hexQuad(at: j + 2) else {
            if stop == .end, j + 6 > limit { throw unterminatedString(line: quote.line, column: quote.column) }
            throw error("invalid \\u escape: expected four hexadecimal digits", at: j)
        }
        var scalar = high
        var length = 6
        if high >= 0xD800, high <= 0xDBFF {
            if j + 12 <= limit, base[j + 6] == UInt8(ascii: "\\"), base[j + 7] == UInt8(ascii: "u"),
                let low = hexQuad(at: j + 8), low >= 0xDC00, low <= 0xDFFF
            {
                scalar = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                length = 12
            } else if stop == .end, j + 12 > limit {
                throw unterminatedString(line: quote.line, column: quote.column)
            } else {
                throw error(
                    "lone surrogate \\u\(Self.hex(high, digits: 4)): a high surrogate must be followed by a low one",
                    at: j)
            }
        } else if high >= 0xDC00, high <= 0xDFFF {
            throw error("lone surrogate \\u\(Self.hex(high, digits: 4)): a low surrogate must follow a high one", at: j)
        }
        if emit { appendUTF8(scalar) }
        return length
    }

    func hexQuad(at index: Int) -> UInt32? {
        var value: UInt32 = 0
        for k in 0..<4 {
            let byte = base[index + k]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// The length (2…4) of the well-formed UTF-8 sequence at `index`, 0 if it is ill-formed,
    /// -1 if `limit` cuts it short while it is still well-formed so far.
    func utf8SequenceLength(at index: Int, limit: Int) -> Int {
        let lead = base[index]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            high = 0x9F
        case 0xF0:
            length = 4
            low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            high = 0x8F
        default: return 0
        }
        for k in 1..<length {
            if index + k >= limit { return -1 }
            let byte = base[index + k]
            if k == 1 {
                if byte < low || byte > high { return 0 }
            } else if byte & 0xC0 != 0x80 {
                return 0
            }
        }
        return length
    }

    // MARK: - Numbers and literals

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    enum NumberProblem {
        case digitAfterMinus, leadingZero, digitAfterPoint, digitInExponent, unexpected
    }

    /// Reads the number at `pos`, leaving `pos` after it.
    /// - Parameter convert: false to validate only (the result is then 0).
    mutating func readNumber(convert: Bool) throws(JSONSyntaxError) -> Double {
        var start = pos
        var stop = pos
        var negative = false
        var mantissa: UInt64 = 0
        var digits = 0
        var exponent = 0
        var problem: (index: Int, kind: NumberProblem)?
        while true {
            // Check the grammar, accumulating the digits for the exact fast path.
            start = pos
            let limit = end
            var j = start
            negative = base[j] == UInt8(ascii: "-")
            if negative { j += 1 }
            mantissa = 0
            digits = 0
            exponent = 0
            problem = nil
            scan: do {
                guard j < limit, Self.isDigit(base[j]) else {
                    problem = (j, .digitAfterMinus)
                    break scan
                }
                if base[j] == UInt8(ascii: "0") {
                    j += 1
                    if j < limit, Self.isDigit(base[j]) {
                        problem = (start, .leadingZero)
                        break scan
                    }
                } else {
                    repeat {
                        mantissa = mantissa &* 10 &+ UInt64(base[j] &- UInt8(ascii: "0"))
                        digits += 1
                        j += 1
                    } while j < limit && Self.isDigit(base[j])
                }
                if j < limit, base[j] == UInt8(ascii: ".") {
                    j += 1
                    guard j < limit, Self.isDigit(base[j]) else {
                        problem = (j, .digitAfterPoint)
                        break scan
                    }
                    repeat {
                        mantissa = mantissa &* 10 &+ UInt64(base[j] &- UInt8(ascii: "0"))
                        digits += 1
                        exponent -= 1
                        j += 1
                    } while j < limit && Self.isDigit(base[j])
                }
                if j < limit, base[j] | 0x20 == UInt8(ascii: "e") {
                    j += 1
                    var exponentNegative = false
                    if j < limit, base[j] == UInt8(ascii: "-") || base[j] == UInt8(ascii: "+") {
                        exponentNegative = base[j] == UInt8(ascii: "-")
                        j += 1
                    }
                    guard j < limit, Self.isDigit(base[j]) else {
                        problem = (j, .digitInExponent)
                        break scan
                    }
                    var value = 0
                    repeat {
                        if value < 1_000_000 { value = value * 10 + Int(base[j] &- UInt8(ascii: "0")) }
                        j += 1
                    } while j < limit && Self.isDigit(base[j])
                    exponent += exponentNegative ? -value : value
                }
                if j < limit {
                    let byte = base[j]
                    if byte == UInt8(ascii: ".") || byte | 0x20 == UInt8(ascii: "e") || byte == UInt8(ascii: "-")
                        || byte == UInt8(ascii: "+")
                    {
                        problem = (j, .unexpected)
                    }
                }
            }
            // Stopped at the end of the buffer: the number may go on in the next chunk.
            if j >= limit, !exhausted {
                _ = try refill()
                continue
            }
            stop = j
            break
        }
        if let problem {
            let index = problem.index
            switch problem.kind {
            case .digitAfterMinus:
                if index < end, base[index] == UInt8(ascii: "I") {
                    throw error("-Infinity is not allowed in JSON", at: start)
                }
                throw error("expected a digit after '-'", at: index)
            case .leadingZero: throw error("leading zeros are not allowed in numbers", at: index)
            case .digitAfterPoint: throw error("expected a digit after the decimal point", at: index)
            case .digitInExponent: throw error("expected a digit in the exponent", at: index)
            case .unexpected: throw error("unexpected \(describe(at: index)) in a number", at: index)
            }
        }
        guard convert else {
            pos = stop
            return 0
        }

        // Exact fast path (Clinger): a mantissa below 2^53 and a power of ten up to 10^22 are
        // both exact doubles, so one IEEE multiplication or division rounds correctly.
        if digits <= 19, mantissa <= 1 << 53, exponent >= -22, exponent <= 22 {
            var value = Double(mantissa)
            if exponent < 0 {
                value /= Self.powerOfTen(-exponent)
            } else if exponent > 0 {
                value *= Self.powerOfTen(exponent)
            }
            pos = stop
            return negative ? -value : value
        }
        // Everything else: the standard library's correctly rounded conversion of the text.
        let text = String(decoding: UnsafeBufferPointer(start: base + start, count: stop - start), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw error("number \(text) is beyond the range of a 64-bit float", at: start)
        }
        pos = stop
        return value
    }

    @inline(__always)
    static func powerOfTen(_ n: Int) -> Double {
        switch n {
        case 0: 1e0
        case 1: 1e1
        case 2: 1e2
        case 3: 1e3
        case 4: 1e4
        case 5: 1e5
        case 6: 1e6
        case 7: 1e7
        case 8: 1e8
        case 9: 1e9
        case 10: 1e10
        case 11: 1e11
        case 12: 1e12
        case 13: 1e13
        case 14: 1e14
        case 15: 1e15
        case 16: 1e16
        case 17: 1e17
        case 18: 1e18
        case 19: 1e19
        case 20: 1e20
        case 21: 1e21
        default: 1e22
        }
    }

    /// Reads `true`, `false` or `null` at `pos`.
    mutating func readLiteral() throws(JSONSyntaxError) -> JSONValue {
        let word: StaticString
        let value: JSONValue
        switch base[pos] {
        case UInt8(ascii: "t"):
            word = "true"
            value = .bool(true)
        case UInt8(ascii: "f"):
            word = "false"
            value = .bool(false)
        default:
            word = "null"
            value = .null
        }
        let length = word.utf8CodeUnitCount
        while end - pos < length {
            guard try refill() else { break }
        }
        for k in 1..<length {
            guard pos + k < end else { throw endOfInput("'\(word)'") }
            guard base[pos + k] == word.utf8Start[k] else { throw error("invalid literal, expected '\(word)'", at: pos) }
        }
        pos += length
        return value
    }
}
