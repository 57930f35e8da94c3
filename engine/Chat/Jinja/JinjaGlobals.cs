using System.Globalization;
using System.Text;

namespace Orleans.Rft.Engine.Chat.Jinja;

/// <summary>
/// Functions every chat template can call: jinja2's <c>range</c>, <c>namespace</c>, <c>dict</c>, and
/// the two transformers adds (<c>chat_template_utils.py</c>): <c>raise_exception(message)</c> and
/// <c>strftime_now(format)</c>.
/// </summary>
public static class JinjaGlobals
{
    public static bool TryGet(string name, Func<DateTime> now, out object? value)
    {
        value = name switch
        {
            "range" => new JinjaCallable(name, (a, _) => Range(a)),
            "namespace" => new JinjaCallable(name, (a, k) =>
            {
                var ns = new JinjaNamespace();
                if (a.FirstOrDefault() is Dictionary<string, object?> init) foreach (var (key, v) in init) ns.Values[key] = v;
                foreach (var (key, v) in k) ns.Values[key] = v;
                return ns;
            }),
            "dict" => new JinjaCallable(name, (a, k) =>
            {
                var d = a.FirstOrDefault() is Dictionary<string, object?> init ? new Dictionary<string, object?>(init) : new Dictionary<string, object?>();
                foreach (var (key, v) in k) d[key] = v;
                return d;
            }),
            "raise_exception" => new JinjaCallable(name, (a, _) => throw new JinjaRaisedException(PyValue.Str(a.FirstOrDefault()))),
            "strftime_now" => new JinjaCallable(name, (a, _) => Strftime(now(), PyValue.Str(a.FirstOrDefault()))),
            _ => null,
        };
        return value is not null;
    }

    static List<object?> Range(List<object?> a)
    {
        long start = 0, stop, step = 1;
        if (a.Count == 1) stop = PyValue.ToLong(a[0], 0);
        else
        {
            start = PyValue.ToLong(a[0], 0);
            stop = PyValue.ToLong(a[1], 0);
            if (a.Count > 2) step = PyValue.ToLong(a[2], 0);
        }
        if (step == 0) throw new JinjaException("range() arg 3 must not be zero.");
        var list = new List<object?>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            list.Add(i);
            if (list.Count > 100_000) throw new JinjaException("range() is too large for a chat template (over 100000 items).");
        }
        return list;
    }

    /// <summary>Python's <c>datetime.strftime</c> for the C-locale directives templates use.</summary>
    public static string Strftime(DateTime t, string format)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length) { sb.Append(format[i]); continue; }
            char d = format[++i];
            sb.Append(d switch
            {
                'd' => t.Day.ToString("00", c),
                'm' => t.Month.ToString("00", c),
                'Y' => t.Year.ToString("0000", c),
                'y' => (t.Year % 100).ToString("00", c),
                'b' => t.ToString("MMM", c),
                'B' => t.ToString("MMMM", c),
                'a' => t.ToString("ddd", c),
                'A' => t.ToString("dddd", c),
                'H' => t.Hour.ToString("00", c),
                'I' => (t.Hour % 12 == 0 ? 12 : t.Hour % 12).ToString("00", c),
                'M' => t.Minute.ToString("00", c),
                'S' => t.Second.ToString("00", c),
                'p' => t.Hour < 12 ? "AM" : "PM",
                'j' => t.DayOfYear.ToString("000", c),
                'e' => t.Day.ToString(c).PadLeft(2),
                '%' => "%",
                _ => "%" + d,
            });
        }
        return sb.ToString();
    }
}
