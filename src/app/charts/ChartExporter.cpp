#include "ChartExporter.h"

#include "ExportableChart.h"

#include <QCoreApplication>
#include <QFile>
#include <QPainter>
#include <QSvgGenerator>

namespace schedy::charts {

QImage ChartExporter::toImage(ExportableChart &chart, qreal scale)
{
    const QSize size = chart.exportSize();
    QImage image((QSizeF(size) * scale).toSize(), QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::white);
    QPainter painter(&image);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setRenderHint(QPainter::TextAntialiasing);
    chart.renderChart(&painter, QRectF(QPointF(0, 0), QSizeF(image.size())));
    painter.end();
    return image;
}

bool ChartExporter::savePng(ExportableChart &chart, const QString &path, QString *error, qreal scale)
{
    const QImage image = toImage(chart, scale);
    if (image.isNull() || !image.save(path, "PNG")) {
        if (error)
            *error = QCoreApplication::translate("ChartExporter", "Could not write %1").arg(path);
        return false;
    }
    return true;
}

bool ChartExporter::saveSvg(ExportableChart &chart, const QString &path, QString *error)
{
    const QSize size = chart.exportSize();
    QSvgGenerator generator;
    generator.setFileName(path);
    generator.setSize(size);
    generator.setViewBox(QRect(QPoint(0, 0), size));
    generator.setTitle(chart.chartTitle());
    generator.setDescription(
        QCoreApplication::translate("ChartExporter", "Exported from the Schedy dashboard"));
    QPainter painter;
    if (!painter.begin(&generator)) {
        if (error)
            *error = QCoreApplication::translate("ChartExporter", "Could not write %1").arg(path);
        return false;
    }
    painter.fillRect(QRect(QPoint(0, 0), size), Qt::white);
    chart.renderChart(&painter, QRectF(QPointF(0, 0), QSizeF(size)));
    painter.end();
    if (!QFile::exists(path) || QFile(path).size() == 0) {
        if (error)
            *error = QCoreApplication::translate("ChartExporter", "Could not write %1").arg(path);
        return false;
    }
    return true;
}

} // namespace schedy::charts
