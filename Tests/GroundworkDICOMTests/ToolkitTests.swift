import CDICOM
import Testing

@Suite struct ToolkitTests {
    @Test func linksAgainstDCMTK() {
        let version = String(cString: gw_dicom_toolkit_version())
        #expect(version.hasPrefix("3."))
    }
}
