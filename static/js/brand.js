// The tenant's brand colour: the page names it in <html data-brand="#rrggbb">, and this sets the CSS custom
// property through the CSSOM, which the Content-Security-Policy allows where an inline <style> is refused
// (reliability.md D3). Loaded without defer from <head> so the header never flashes the default colour.
(function () {
  "use strict";
  var root = document.documentElement;
  var brand = root.getAttribute("data-brand");
  if (brand && /^#[0-9a-fA-F]{3,8}$/.test(brand)) {
    root.style.setProperty("--brand", brand);
  }
})();
