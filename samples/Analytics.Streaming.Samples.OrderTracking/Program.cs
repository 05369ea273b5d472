using Analytics.Streaming.Samples.OrderTracking;

// The order-tracking service (no AWS account needed):
//   dotnet run -c Release --project samples/Analytics.Streaming.Samples.OrderTracking
var app = OrderTrackingApp.Build(args);
await app.RunAsync();
