import GroundworkMetrics
import Testing

private struct ExampleMetric: GroundingMetric {
    static let id = "example"
    static let version = 3
}

@Suite struct GroundingMetricTests {
    @Test func versionedIdentifierJoinsIdAndVersion() {
        #expect(ExampleMetric.versionedID == "example@3")
    }
}
