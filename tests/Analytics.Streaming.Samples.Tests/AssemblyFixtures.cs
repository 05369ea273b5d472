using Analytics.Streaming.TestSupport;

// Each emulator starts once per test run and is shared by every test class that takes it in its constructor.
[assembly: AssemblyFixture(typeof(DynaliteServer))]
[assembly: AssemblyFixture(typeof(KinesaliteServer))]
[assembly: AssemblyFixture(typeof(SmtpServer))]
