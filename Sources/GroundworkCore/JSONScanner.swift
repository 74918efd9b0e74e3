#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One open array or object, for pointers, duplicate keys and the streaming API's bookkeeping.
struct JSONFrame {
    var isArray = false
    /// Members or elements begun so far.
    var count = 0
    /// Whether the pointer names the current member (false before the first and after a comma).
    var hasMember = false
    /// Streaming API: the current member's value has not been read yet.
    var pending = false
    /// The current member's key (objects).
    var key = ""
    /// The keys seen so far (objects read through the streaming API or skipped).
    var keys = JSONKeySet()
}

/// The keys of one object: a short list, then a hash set once the object grows.
struct JSONKeySet {
    private var list: [String] = []
    private var set: Set<String> = []

    /// Adds a key; false if it was already there.
    mutating func insert(_ key: String) -> Bool {
        if set.isEmpty {
            if list.contains(key) { return false }
            list.append(key)
            if list.count > 16 {
                set.formUnion(list)
                list.removeAll(keepingCapacity: true)
            }
            return true
        }
        return set.insert(key).inserted
    }

    mutating func removeAll() {
        if !list.isEmpty { list.removeAll(keepingCapacity: true) }
        if !set.isEmpty { set.removeAll(keepingCapacity: true) }
    }
}

/// A growable stack in manually managed memory: elements move out of it without copies, and
/// access needs neither uniqueness checks nor bounds checks (callers keep indices below `count`).
struct JSONStack<Element>: ~Copyable {
    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var count = 0
    private var capacity = 0

    init() {
        // A non-null placeholder; nothing is allocated until the first push.
        base = UnsafeMutablePointer(bitPattern: MemoryLayout<Element>.alignment)!
    }

    deinit {
        if capacity > 0 {
            base.deinitialize(count: count)
            base.deallocate()
        }
    }

    @inline(__always)
    mutating func push(_ element: consuming Element) {
        if count == capacity { grow() }
        (base + count).initialize(to: element)
        count += 1
    }

    private mutating func grow() {
        let newCapacity = Swift.max(16, capacity * 2)
        let grown = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        if capacity > 0 {
            grown.moveInitialize(from: base, count: count)
            base.deallocate()
        }
        base = grown
        capacity = newCapacity
    }

    /// Moves the elements from `first` on into a new array, leaving `first` elements.
    mutating func popArray(from first: Int) -> [Element] {
        let n = count - first
        guard n > 0 else { return [] }
        let source = base + first
        count = first
        return [Element](unsafeUninitializedCapacity: n) { buffer, initialized in
            buffer.baseAddress!.moveInitialize(from: source, count: n)
            initialized = n
        }
    }
}

/// The byte-level JSON machinery behind `JSONStreamReader`, `JSONValue.parse` and
/// `JSONLinesReader`.
///
/// The text lives in one buffer: either the caller's (parsing a complete text in place) or an
/// owned one refilled chunk by chunk from a source. A token that straddles two chunks is kept
/// whole: before reading the next chunk the unread tail moves to the front of the buffer (which
/// grows only for a token longer than the free space). Every index into the buffer is therefore
/// relative, and functions that refill re-derive their indices from `pos`, which `refill()`
/// keeps pointing at the same byte.
struct JSONScanner: ~Copyable {
    /// The deepest nesting of arrays and objects accepted.
    static let maxDepth = 512
    /// The chunk size for files and in-memory sources.
    static let defaultChunkSize = 65536

    // The buffer and the source.
    private(set) var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private let ownsBuffer: Bool
    /// The next byte to read.
    var pos = 0
    /// One past the last valid byte.
    var end: Int
    private let source: JSONByteSource
    private var sourceOffset = 0
    private let chunkSize: Int
    private var exhausted: Bool
    /// Bytes dropped from the front of the buffer so far (so `discarded + pos` is a file offset).
    private(set) var discarded = 0

    // The place.
    /// The current 1-based line.
    private(set) var line: Int
    /// The buffer index at which the current line starts (may be negative once dropped).
    private var lineStart = 0
    /// UTF-8 continuation bytes between `lineStart` and the point decoded so far, so that
    /// columns count scalars.
    private var lineContinuations = 0

    // The structure.
    /// Frames `0..<depth` are open; frames up to `frames.count` are kept for reuse.
    private var frames = JSONStack<JSONFrame>()
    /// How many arrays and objects are open.
    private(set) var depth = 0
    /// Whether the top-level value has been begun.
    private var rootTaken = false

    // Reusable storage.
    private var scratch: [UInt8] = []
    private var elementStack = JSONStack<JSONValue>()
    private var memberStack = JSONStack<(key: String, value: JSONValue)>()

    /// Scans a complete text in place (the caller keeps `buffer` alive while the scanner lives).
    init(borrowing buffer: UnsafeBufferPointer<UInt8>, line: Int) {
        if let address = buffer.baseAddress, buffer.count > 0 {
            base = UnsafeMutablePointer(mutating: address)
            capacity = buffer.count
            ownsBuffer = false
        } else {
            base = .allocate(capacity: 1)
            capacity = 1
            ownsBuffer = true
        }
        end = buffer.count
        source = .none
        chunkSize = 0
        exhausted = true
        self.line = line
        skipByteOrderMark()
    }

    /// Scans a text read chunk by chunk from `source`.
    init(source: JSONByteSource, chunkSize: Int) {
        let chunk = max(1, chunkSize)
        capacity = chunk * 2
        base = .allocate(capacity: capacity)
        ownsBuffer = true
        end = 0
        self.source = source
        self.chunkSize = chunk
        exhausted = false
        line = 1
    }

    deinit {
        if ownsBuffer { base.deallocate() }
    }

    /// The buffer's size in bytes (tests check that it stays flat).
    var bufferCapacity: Int { capacity }

    // MARK: - Buffer

    /// Reads the first bytes and skips a UTF-8 byte-order mark.
    mutating func start() -> FileIOError? {
        while end - pos < 3 {
            switch fill() {
            case .success(true): continue
            case .success(false): break
            case .failure(let error): return error
            }
            break
        }
        skipByteOrderMark()
        return nil
    }

    private mutating func skipByteOrderMark() {
        if pos == 0, end >= 3, base[0] == 0xEF, base[1] == 0xBB, base[2] == 0xBF {
            pos = 3
            lineStart = 3
        }
    }

    /// Reads one more chunk, keeping the bytes from `pos` on. `pos` keeps pointing at the same
    /// byte, but the buffer may have moved: callers re-derive their indices from `pos`.
    /// - Returns: false at the end of the input.
    private mutating func refill() throws(JSONSyntaxError) -> Bool {
        switch fill() {
        case .success(let more): return more
        case .failure(let failure):
            throw error("cannot read \(failure.path): \(failure.reason)", at: end)
        }
    }

    private mutating func fill() -> Result<Bool, FileIOError> {
        if exhausted { return .success(false) }
        let start = pos
        if start > 0 {
            let kept = end - start
            if kept > 0 { memmove(base, base + start, kept) }
            pos = 0
            end = kept
            lineStart -= start
            discarded += start
        }
        if capacity - end < chunkSize {
            let newCapacity = max(capacity * 2, end + chunkSize)
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            grown.update(from: base, count: end)
            base.deallocate()
            base = grown
            capacity = newCapacity
        }
        switch source.read(into: base + end, count: chunkSize, at: sourceOffset) {
        case .success(let n):
            if n == 0 {
                exhausted = true
                return .success(false)
            }
            end += n
            sourceOffset += n
            return .success(true)
        case .failure(let failure):
            exhausted = true
            return .failure(failure)
        }
    }

    // MARK: - Places and errors

    /// The 1-based column of a buffer index on the current line, in scalars.
    func column(at index: Int) -> Int { index - lineStart - lineContinuations + 1 }

    /// The JSON pointer of the value being read; with `containerOnly`, of the innermost open
    /// array or object instead of its current member.
    func pointer(containerOnly: Bool = false) -> String {
        var result = ""
        let count = containerOnly ? depth - 1 : depth
        var index = 0
        while index < count {
            let frame = frames.base + index
            guard frame.pointee.hasMember else { break }
            if frame.pointee.isArray {
                result.append("/")
                result.append(String(frame.pointee.count - 1))
            } else {
                JSONPointer.append(frame.pointee.key, to: &result)
            }
            index += 1
        }
        return result
    }

    func error(_ message: String, at index: Int, containerOnly: Bool = false) -> JSONSyntaxError {
        JSONSyntaxError(
            line: line, column: column(at: index), pointer: pointer(containerOnly: containerOnly), message: message)
    }

    private func endOfInput(_ expected: String, containerOnly: Bool = false) -> JSONSyntaxError {
        error("unexpected end of input, expected \(expected)", at: end, containerOnly: containerOnly)
    }

    /// A byte, or the character it starts, for a message: `'x'`, `'é' (U+00E9)`, `byte 0xFF`.
    private func describe(at index: Int) -> String {
        guard index < end else { return "end of input" }
        let byte = base[index]
        if byte >= 0x21, byte <= 0x7E { return "'\(Character(Unicode.Scalar(byte)))'" }
        if byte >= 0x80 {
            let length = utf8SequenceLength(at: index, limit: end)
            if length > 0,
                let scalar = String(decoding: UnsafeBufferPointer(start: base + index, count: length), as: UTF8.self)
                    .unicodeScalars.first
            {
                return "'\(scalar)' (U+\(Self.hex(scalar.value, digits: 4)))"
            }
        }
        return "byte 0x\(Self.hex(UInt32(byte), digits: 2))"
    }

    static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// The error for a byte that cannot start a value.
    private func notAValue(at index: Int) -> JSONSyntaxError {
        guard index < end else { return endOfInput("a value") }
        let message: String
        switch base[index] {
        case UInt8(ascii: "N"): message = "NaN is not allowed in JSON"
        case UInt8(ascii: "I"): message = "Infinity is not allowed in JSON"
        case UInt8(ascii: "/"), UInt8(ascii: "#"): message = "comments are not allowed in JSON"
        case UInt8(ascii: "'"): message = "strings must be enclosed in double quotes"
        case UInt8(ascii: "+"): message = "a number cannot start with '+'"
        case UInt8(ascii: "."): message = "a number must have a digit before the decimal point"
        default: message = "expected a value, found \(describe(at: index))"
        }
        return error(message, at: index)
    }

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

    private mutating func skipWhitespace() throws(JSONSyntaxError) -> UInt8? {
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

    private func unterminatedString(line: Int, column: Int) -> JSONSyntaxError {
        JSONSyntaxError(line: line, column: column, pointer: pointer(), message: "unterminated string")
    }

    private enum StringStop { case quote, control, end }

    /// The general string path, from `start` (the first byte that is not plain ASCII) on:
    /// escapes, non-ASCII UTF-8 and errors. `pos` holds the opening quote.
    private mutating func finishString(from start: Int, emit: Bool) throws(JSONSyntaxError) -> String? {
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
    private mutating func unicodeEscape(
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

    private func hexQuad(at index: Int) -> UInt32? {
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

    private mutating func appendUTF8(_ scalar: UInt32) {
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
    private static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

    private enum NumberProblem {
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
    private static func powerOfTen(_ n: Int) -> Double {
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

    // MARK: - Frames

    private mutating func push(isArray: Bool) throws(JSONSyntaxError) {
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

    private mutating func parseObject() throws(JSONSyntaxError) -> JSONValue {
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
    private func isDuplicate(_ key: String, first: Int, set: inout Set<String>) -> Bool {
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

    private mutating func parseArray() throws(JSONSyntaxError) -> JSONValue {
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

    private mutating func skipObject() throws(JSONSyntaxError) {
        try push(isArray: false)
        let top = depth - 1
        while try nextKeyInFrame(top) != nil {
            try skipAnyValue()
        }
    }

    private mutating func skipArray() throws(JSONSyntaxError) {
        try push(isArray: true)
        let top = depth - 1
        while try nextElementInFrame(top) {
            try skipAnyValue()
        }
    }

    /// Moves to the next member of the object `top` (the innermost frame): returns its key with
    /// `pos` after the colon, or nil after consuming `}` (the frame is then closed).
    private mutating func nextKeyInFrame(_ top: Int) throws(JSONSyntaxError) -> String? {
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
    private mutating func nextElementInFrame(_ top: Int) throws(JSONSyntaxError) -> Bool {
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

    private mutating func expectEnd() throws(JSONSyntaxError) {
        if try peekByte() != nil {
            throw error("unexpected \(describe(at: pos)) after the top-level value", at: pos)
        }
    }

    // MARK: - Streaming

    /// Whether a value may be read now (the top-level value, or the member or element announced
    /// by `nextKey()`/`nextElement()`), else a usage error.
    private func checkValueExpected(_ operation: String) throws(JSONSyntaxError) {
        if depth == 0 {
            guard !rootTaken else { throw error("\(operation): the top-level value has already been read", at: pos) }
        } else if !frames.base[depth - 1].pending {
            let advance = frames.base[depth - 1].isArray ? "nextElement()" : "nextKey()"
            throw error("\(operation): no value to read here; call \(advance) first", at: pos)
        }
    }

    private mutating func takeValue() {
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

    private static func kind(of byte: UInt8) -> JSONKind? {
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
    private func innermost(array: Bool, _ operation: String) throws(JSONSyntaxError) -> Int {
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
