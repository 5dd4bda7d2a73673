// Style sheets are the browser's business: a component test imports them as nothing.
module.exports = {};
