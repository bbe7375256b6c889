/*
 * The warm-up input of the bundled minify program (see bundled-programs.json): a small script in the usual
 * shape of one, so that warm-up requests write the pages real requests write.
 */
(function (global) {
    'use strict';

    var DEFAULTS = { width: 320, quality: 80, formats: ['webp', 'avif'] };

    // Picks the first format the browser accepts.
    function pickFormat(accept, formats) {
        for (var i = 0; i < formats.length; i++) {
            if (accept.indexOf('image/' + formats[i]) >= 0) {
                return formats[i];
            }
        }
        return 'jpeg';
    }

    function optionsUrl(path, options) {
        var merged = Object.assign({}, DEFAULTS, options || {});
        var query = [];
        Object.keys(merged).forEach(function (key) {
            var value = Array.isArray(merged[key]) ? merged[key].join(',') : String(merged[key]);
            query.push(encodeURIComponent(key) + '=' + encodeURIComponent(value));
        });
        return path + (path.indexOf('?') >= 0 ? '&' : '?') + query.join('&');
    }

    /* Replaces data-src attributes with sized image URLs once the page has loaded. */
    function upgradeImages(doc) {
        var images = doc.querySelectorAll('img[data-src]');
        images.forEach(function (img) {
            var width = Math.round(img.clientWidth * (global.devicePixelRatio || 1));
            img.src = optionsUrl(img.getAttribute('data-src'), { width: width });
        });
        return images.length;
    }

    global.kvmfilterDemo = { pickFormat: pickFormat, optionsUrl: optionsUrl, upgradeImages: upgradeImages };
}(typeof window !== 'undefined' ? window : this));
