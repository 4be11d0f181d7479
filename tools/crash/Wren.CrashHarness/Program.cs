using System.Globalization;
using System.Text.Json;
using Wren.CrashHarness;

// Wren.CrashHarness --broker PATH/Wren.Broker.dll [--duration 60] [--kill-every 10] [--kill-jitter 5] [--clients 8]
//   [--rate 25] [--conversations 4] [--seed N] [--ack-before-durable] [--json] [--keep-data] [--data-dir DIR]
//   [--fault kill|pause] [--pause-min 5] [--pause-max 30] [--ping-interval S] [--idle-timeout S] [--request-timeout S]
// Exit codes: 0 passed, 1 lost/duplicated/unexpected/gaps/resend mismatches found, 2 bad arguments, 3 the run could not complete.
// Wren.CrashHarness --scenario disk-full|slow-consumers ... runs the other scenarios (Scenarios.cs lists their options).
if (args.Length >= 2 && args[0] == "--scenario")
{
    // disk-full and slow-consumers have their own options (Scenarios.cs).
    return await Scenarios.MainAsync(args[1], args[2..]);
}

var options = new CrashOptions { Log = Console.Error };
var json = false;
try
{
    for (var i = 0; i < args.Length; i++)
    {
        string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
        double Seconds() => double.Parse(Value(), CultureInfo.InvariantCulture);
        switch (args[i])
        {
            case "--broker": options.BrokerPath = Value(); break;
            case "--duration": options.Duration = TimeSpan.FromSeconds(Seconds()); break;
            case "--kill-every": options.KillEvery = TimeSpan.FromSeconds(Seconds()); break;
            case "--kill-jitter": options.KillJitter = TimeSpan.FromSeconds(Seconds()); break;
            case "--fault":
                options.Fault = Value() switch
                {
                    "kill" => FaultMode.Kill,
                    "pause" => FaultMode.Pause,
                    var other => throw new ArgumentException($"--fault must be kill or pause, not {other}"),
                };
                break;
            case "--pause-min": options.PauseMin = TimeSpan.FromSeconds(Seconds()); break;
            case "--pause-max": options.PauseMax = TimeSpan.FromSeconds(Seconds()); break;
            case "--ping-interval": options.BrokerPingInterval = TimeSpan.FromSeconds(Seconds()); break;
            case "--idle-timeout": options.BrokerIdleTimeout = TimeSpan.FromSeconds(Seconds()); break;
            case "--request-timeout": options.ClientRequestTimeout = TimeSpan.FromSeconds(Seconds()); break;
            case "--clients": options.Clients = int.Parse(Value(), CultureInfo.InvariantCulture); break;
            case "--rate": options.Rate = double.Parse(Value(), CultureInfo.InvariantCulture); break;
            case "--conversations": options.Conversations = int.Parse(Value(), CultureInfo.InvariantCulture); break;
            case "--resend-sample": options.ResendSample = int.Parse(Value(), CultureInfo.InvariantCulture); break;
            case "--seed": options.Seed = int.Parse(Value(), CultureInfo.InvariantCulture); break;
            case "--data-dir": options.DataDirectory = Value(); break;
            case "--ack-before-durable": options.AckBeforeDurable = true; break;
            case "--keep-data": options.KeepData = true; break;
            case "--json": json = true; break;
            case "--quiet": options.Log = null; break;
            default: throw new ArgumentException($"unknown argument {args[i]}");
        }
    }

    if (options.KillJitter >= options.KillEvery)
    {
        options.KillJitter = options.KillEvery / 2;
    }

    options.Validate();
}
catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException)
{
    Console.Error.WriteLine($"crash: {ex.Message}");
    Console.Error.WriteLine("usage: Wren.CrashHarness --broker Wren.Broker.dll [--duration S] [--kill-every S] [--kill-jitter S] [--clients N] [--rate PER_CLIENT_PER_S] [--conversations N] [--seed N] [--ack-before-durable] [--fault kill|pause] [--pause-min S] [--pause-max S] [--ping-interval S] [--idle-timeout S] [--request-timeout S] [--json]");
    return 2;
}

CrashReport report;
try
{
    report = await CrashHarness.RunAsync(options);
}
catch (Exception ex) when (ex is TimeoutException or IOException or Wren.Client.WrenClientException or InvalidOperationException)
{
    Console.Error.WriteLine($"crash: the run could not complete: {ex}");
    return 3;
}

Console.WriteLine(json
    ? JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase })
    : report.ToString());
if (!json && report.Problems.Count > 0)
{
    Console.WriteLine("examples:");
    foreach (var problem in report.Problems)
    {
        Console.WriteLine("  " + problem);
    }
}

return report.Passed ? 0 : 1;
