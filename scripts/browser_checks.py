"""What the browser tests share: WCAG 2 contrast, and the script that
collects each text element's colour and effective background."""


# Relative luminance and contrast ratio (WCAG 2).
def luminance(rgb):
    def channel(c):
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a, b):
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


# Text colour and effective background of every element with its own text.
COLOURS_JS = """
const parse = s => { const m = s.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
  const p = m[1].split(',').map(Number); return {rgb: p.slice(0, 3), a: p.length > 3 ? p[3] : 1}; };
const bg = el => { for (; el; el = el.parentElement) { const c = parse(getComputedStyle(el).backgroundColor);
  if (c && c.a > 0) return c.rgb; } return [255, 255, 255]; };
const out = [];
for (const el of document.querySelectorAll('body *')) {
  const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
  if (!own || el.offsetParent === null) continue;
  out.push({tag: el.tagName, text: el.textContent.trim().slice(0, 30),
            fg: parse(getComputedStyle(el).color).rgb, bg: bg(el)});
}
return out;
"""
