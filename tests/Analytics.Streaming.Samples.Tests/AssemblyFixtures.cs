using Analytics.Streaming.TestSupport;

// dynalite starts once per test run and is shared by every test class that takes it in its constructor.
[assembly: AssemblyFixture(typeof(DynaliteServer))]
