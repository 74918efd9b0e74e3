import GroundworkReleases
import Testing

@Suite struct SemanticVersionTests {
    @Test func parsesAndOrdersNumerically() throws {
        let a = try #require(SemanticVersion("1.9.0"))
        let b = try #require(SemanticVersion("1.10.0"))
        #expect(a < b)
        #expect(b.description == "1.10.0")
    }

    @Test(arguments: ["1.0", "1.0.0.0", "01.0.0", "1.0.0-rc1", "v1.0.0", "1..0", "-1.0.0", ""])
    func rejectsMalformed(_ text: String) {
        #expect(SemanticVersion(text) == nil)
    }

    @Test func bumpResetsLowerParts() throws {
        let v = try #require(SemanticVersion("2.3.4"))
        #expect(v.bumped(.major).description == "3.0.0")
        #expect(v.bumped(.minor).description == "2.4.0")
        #expect(v.bumped(.patch).description == "2.3.5")
    }
}
