import Foundation
import GroundworkCore
import Testing

/// The exact `%.17g` and decimal formatting against the C library and `String`.
@Suite struct DecimalTextTests {
    private func fast(_ value: Double) -> String {
        var bytes: [UInt8] = []
        DecimalText.appendG17(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    private func printf(_ value: Double) -> String {
        var bytes: [UInt8] = []
        DecimalText.appendPrintfG17(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func knownValuesPrintAsCDoes() {
        #expect(fast(64.82) == "64.819999999999993")
        #expect(fast(0.1) == "0.10000000000000001")
        #expect(fast(12) == "12")
        #expect(fast(-0.0) == "-0")
        #expect(fast(0) == "0")
        #expect(fast(0.0001) == "0.0001")
        #expect(fast(0.00001) == "1.0000000000000001e-05")
        #expect(fast(1e16) == "10000000000000000")
        #expect(fast(1e17) == "1e+17")
        #expect(fast(.infinity) == "inf")
        #expect(fast(-1.5) == "-1.5")
        #expect(fast(244.5854) == String(format: "%.17g", 244.5854))
    }

    @Test func randomValuesOfEveryKindMatchSnprintf() {
        var random = SplitMix64(seed: 20261207)
        var checked = 0
        func check(_ value: Double) {
            #expect(fast(value) == printf(value), "value bits \(value.bitPattern)")
            checked += 1
        }
        for _ in 0..<200_000 {
            // Any bit pattern; decimals with two to four places as annotation tools write them;
            // whole numbers; values next to powers of ten; values with few mantissa bits (ties).
            check(Double(bitPattern: random.next()))
            let scale = [1.0, 10, 100, 1000, 10000][Int(random.next() % 5)]
            check(Double(Int64(random.next() % 10_000_000)) / scale)
            check(Double(Int64(bitPattern: random.next()) >> Int(random.next() % 64)))
            let power = pow(10.0, Double(Int(random.next() % 24) - 6))
            check(power.nextUp)
            check(power.nextDown)
            check(power)
            let exponent = Int(random.next() % 60) - 25
            check(Double(sign: .plus, exponent: exponent, significand: 1 + Double(random.next() % 8) / 8))
            check(-Double(Int64(random.next() % 1_000_000)) / 3)
        }
        #expect(checked == 1_600_000)
    }

    @Test func integersPrintAsStringDoes() {
        var random = SplitMix64(seed: 7)
        for value in [Int64.min, Int64.max, 0, -1, 1, 10, -10] + (0..<10_000).map({ _ in Int64(bitPattern: random.next()) }) {
            var bytes: [UInt8] = []
            DecimalText.append(value, to: &bytes)
            #expect(String(decoding: bytes, as: UTF8.self) == String(value))
        }
    }
}
