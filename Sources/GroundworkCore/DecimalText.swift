#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Numbers as decimal text, appended to bytes without an intermediate `String`: the hot path of
/// canonical text (a release's content hash formats millions of them).
public enum DecimalText {
    /// Appends the decimal digits of `value`, as `String(value)` gives them.
    public static func append(_ value: Int64, to bytes: inout [UInt8]) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        appendDigits(value.magnitude, to: &bytes)
    }

    private static func appendDigits(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            } while value > 0
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    /// Appends C's `printf("%.17g", value)`: 17 significant digits of the exact binary value,
    /// rounded half to even, trailing zeros dropped, in fixed notation for decimal exponents from
    /// -4 to 16 and exponent notation otherwise.
    ///
    /// Finite values whose decimal exponent lies in -5...16 are formatted exactly in 128-bit
    /// integer arithmetic (every coordinate, area and score Groundwork stores); the rest (huge,
    /// tiny, infinite and NaN values) go through the C library's `snprintf`. A test holds the two
    /// paths equal on millions of values.
    public static func appendG17(_ value: Double, to bytes: inout [UInt8]) {
        guard value.isFinite else { return appendPrintfG17(value, to: &bytes) }
        if value == 0 {
            bytes.append(contentsOf: value.sign == .minus ? Array("-0".utf8) : [UInt8(ascii: "0")])
            return
        }
        let magnitude = value.magnitude
        guard magnitude >= 1e-5, magnitude < 1e16, let digits = seventeenDigits(magnitude) else {
            return appendPrintfG17(value, to: &bytes)
        }
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        appendFixed(digits: digits.digits, exponent: digits.exponent, to: &bytes)
    }

    private static let powersOfTen: [UInt128] = {
        var powers: [UInt128] = [1]
        for _ in 1...38 { powers.append(powers.last! * 10) }
        return powers
    }()

    /// The 17 significant digits of `value` (positive, finite) rounded half to even, as an integer
    /// in 10^16..<10^17, and the decimal exponent of the first; nil when the exact arithmetic does
    /// not fit in 128 bits.
    static func seventeenDigits(_ value: Double) -> (digits: UInt64, exponent: Int)? {
        let isNormal = value.exponentBitPattern != 0
        let mantissa = UInt128(value.significandBitPattern | (isNormal ? 1 << 52 : 0))
        let binaryExponent = (isNormal ? Int(value.exponentBitPattern) : 1) - 1075
        var exponent = Int((log10(value)).rounded(.down))
        for _ in 0..<3 {
            let scale = 16 - exponent
            guard scale >= 0, scale <= 38 else { return nil }
            let power = powersOfTen[scale]
            let (scaled, overflow) = mantissa.multipliedReportingOverflow(by: power)
            guard !overflow else { return nil }
            var quotient: UInt128
            var roundUp = false
            if binaryExponent >= 0 {
                guard binaryExponent < 128, scaled.leadingZeroBitCount > binaryExponent else { return nil }
                quotient = scaled << binaryExponent
            } else {
                let shift = -binaryExponent
                guard shift < 128 else { return nil }
                quotient = scaled >> shift
                let remainder = scaled & ((1 << shift) - 1)
                let half: UInt128 = 1 << (shift - 1)
                roundUp = remainder > half || (remainder == half && quotient & 1 == 1)
            }
            if quotient < powersOfTen[16] {
                exponent -= 1
                continue
            }
            if quotient >= powersOfTen[17] {
                exponent += 1
                continue
            }
            if roundUp { quotient += 1 }
            if quotient == powersOfTen[17] { return (UInt64(powersOfTen[16]), exponent + 1) }
            return (UInt64(quotient), exponent)
        }
        return nil
    }

    /// Appends 17 `digits` with decimal exponent `exponent` as `%g` does: fixed notation for
    /// exponents -4...16, exponent notation (`d.ddde-05`) below, trailing zeros dropped.
    private static func appendFixed(digits: UInt64, exponent: Int, to bytes: inout [UInt8]) {
        var text: [UInt8] = []
        appendDigits(digits, to: &text)
        var significant = 17
        while significant > 1 && text[significant - 1] == UInt8(ascii: "0") { significant -= 1 }
        if exponent < -4 {
            bytes.append(text[0])
            if significant > 1 {
                bytes.append(UInt8(ascii: "."))
                bytes.append(contentsOf: text[1..<significant])
            }
            bytes.append(contentsOf: Array("e-".utf8))
            let power = -exponent
            if power < 10 { bytes.append(UInt8(ascii: "0")) }
            appendDigits(UInt64(power), to: &bytes)
        } else if exponent < 0 {
            bytes.append(contentsOf: Array("0.".utf8))
            bytes.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: -exponent - 1))
            bytes.append(contentsOf: text[0..<significant])
        } else {
            let whole = exponent + 1
            bytes.append(contentsOf: text[0..<whole])
            if significant > whole {
                bytes.append(UInt8(ascii: "."))
                bytes.append(contentsOf: text[whole..<significant])
            }
        }
    }

    /// `%.17g` by the C library.
    public static func appendPrintfG17(_ value: Double, to bytes: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 48) { buffer in
            let count = withVaList([value]) { vsnprintf(buffer.baseAddress, 48, "%.17g", $0) }
            buffer.withMemoryRebound(to: UInt8.self) {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: $0.prefix(Int(max(0, min(count, 47))))))
            }
        }
    }
}
